package io.xdyna.gateway.api;

import io.xdyna.contract.job.ErrorCode;
import io.xdyna.contract.job.JobFailure;
import io.xdyna.contract.storage.StorageLayout;
import io.xdyna.gateway.upload.InputValidator;
import io.xdyna.gateway.upload.InputValidator.ImageInfo;
import io.xdyna.gateway.upload.InputValidator.VideoInfo;
import io.xdyna.gateway.upload.Submission;
import io.xdyna.shared.storage.ObjectStore;
import java.nio.file.Path;
import java.util.Map;

/** A submission's files, checked by content (not by name) before anything is stored; pose is optional. */
record ProbedInputs(ImageInfo reference, VideoInfo driving, VideoInfo pose) {

    /** Probes the spooled files; a {@link JobFailure} says which part is unusable. Blocking. */
    static ProbedInputs probe(SubmissionForm form) {
        Map<String, Path> files = form.files();
        ImageInfo ref = InputValidator.image("reference", files.get("reference"));
        VideoInfo driving = InputValidator.video("driving", files.get("driving"));
        VideoInfo pose = files.containsKey("pose") ? InputValidator.video("pose", files.get("pose")) : null;
        ProbedInputs inputs = new ProbedInputs(ref, driving, pose);
        inputs.checkLength(form);
        return inputs;
    }

    /**
     * An explicit {@code length} longer than the video allows is an error; the default (192) is
     * clamped by the pipeline, as X-Dyna does, so short videos work without tuning.
     */
    private void checkLength(SubmissionForm form) {
        if (!form.lengthGiven()) {
            return;
        }
        int stride = form.params().stride();
        VideoInfo shortest = pose != null && pose.frames() < driving.frames() ? pose : driving;
        String part = shortest == driving ? "driving" : "pose";
        int available = shortest.framesAtStride(stride);
        if (form.params().length() > available) {
            throw JobFailure.permanent(ErrorCode.INVALID_PARAMS, "length " + form.params().length() + " is more"
                    + " than the " + part + " video gives: it has " + shortest.frames() + " frames, so " + available
                    + " at stride " + stride + "; lower length or stride");
        }
    }

    /** Stores the files where the stages read them, and the submission record beside them. Blocking. */
    void store(ObjectStore store, SubmitJob.Upload u, String submittedAt) {
        String id = u.id();
        Map<String, Path> files = u.form().files();
        store.putFile(StorageLayout.inputReference(id), files.get("reference"), reference.contentType());
        store.putFile(StorageLayout.inputDriving(id), files.get("driving"), driving.contentType());
        if (pose != null) {
            store.putFile(StorageLayout.inputPose(id), files.get("pose"), pose.contentType());
        }
        new Submission(id, u.tenant(), submittedAt, u.form().callbackUrl(), u.marker(), reference, driving, pose)
                .save(store);
    }
}
