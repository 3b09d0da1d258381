package io.xdyna.shared.storage;

/**
 * The one layout of a job's objects: {@code jobs/{id}/inputs|conditions|frames|checkpoints|attempts|outputs/...}.
 * Keys are a pure function of the job id and index, so a redelivered message rewrites the same
 * objects and never creates a second result.
 */
public final class StorageLayout {
    private StorageLayout() {
    }

    public static String jobPrefix(String id) {
        return "jobs/" + id + "/";
    }

    // inputs, as uploaded (content type kept on the object)
    public static String inputReference(String id) {
        return jobPrefix(id) + "inputs/reference";
    }

    public static String inputDriving(String id) {
        return jobPrefix(id) + "inputs/driving";
    }

    public static String inputPose(String id) {
        return jobPrefix(id) + "inputs/pose";
    }

    // conditions, written by the pose extractor
    public static String conditionReference(String id) {
        return jobPrefix(id) + "conditions/reference.png";
    }

    /**
     * The CLIP image input made from the original upload (not the prepared reference): shortest side to
     * 224 with PIL's bicubic, centre crop 224 x 224 ({@link io.xdyna.shared.image.ClipCrop}), PNG.
     */
    public static String conditionReferenceClip(String id) {
        return jobPrefix(id) + "conditions/reference_clip.png";
    }

    public static String conditionPose(String id, int frame) {
        return jobPrefix(id) + "conditions/pose/" + frameName(frame, "png");
    }

    public static String conditionFaceLocal(String id, int frame) {
        return jobPrefix(id) + "conditions/face_local/" + frameName(frame, "png");
    }

    public static String conditionFaceGlobal(String id, int frame) {
        return jobPrefix(id) + "conditions/face_global/" + frameName(frame, "png");
    }

    /** The driving frame after crop and resize, for the comparison grid. */
    public static String conditionDriving(String id, int frame) {
        return jobPrefix(id) + "conditions/driving/" + frameName(frame, "jpg");
    }

    public static String posePreview(String id) {
        return jobPrefix(id) + "conditions/pose_preview.mp4";
    }

    // generated frames and sampling checkpoints, written by the animator
    public static String frame(String id, int frame) {
        return jobPrefix(id) + "frames/" + frameName(frame, "png");
    }

    public static String checkpoint(String id) {
        return jobPrefix(id) + "checkpoints/latents.bin";
    }

    /** A stage's attempt ledger for the job (how many attempts it started, the last failure). */
    public static String attempts(String id, String stage) {
        return jobPrefix(id) + "attempts/" + stage + ".json";
    }

    // outputs, written by the encoder
    public static String outputResult(String id) {
        return jobPrefix(id) + "outputs/result.mp4";
    }

    public static String output(String id, String fileName) {
        return jobPrefix(id) + "outputs/" + fileName;
    }

    static String frameName(int frame, String ext) {
        if (frame < 0) {
            throw new IllegalArgumentException("negative frame index " + frame);
        }
        return String.format("%05d.%s", frame, ext);
    }
}
