package io.xdyna.contract.storage;

import java.util.Arrays;
import java.util.Optional;

/**
 * A job's downloadable outputs: the name the API and {@code JobCompleted.outputs} use, the object it is
 * stored as, and its content type. The encoder writes every one but the pose preview, which the pose
 * extractor writes while the job runs.
 */
public enum Output {
    RESULT("result", "result.mp4", "video/mp4"),
    COMPARISON("comparison", "comparison.mp4", "video/mp4"),
    POSTER("poster", "poster.jpg", "image/jpeg"),
    PREVIEW("preview", "preview.gif", "image/gif"),
    METADATA("metadata", "metadata.json", "application/json"),
    POSE_PREVIEW("pose-preview", "pose_preview.mp4", "video/mp4");

    private final String outputName;
    private final String file;
    private final String contentType;

    Output(String outputName, String file, String contentType) {
        this.outputName = outputName;
        this.file = file;
        this.contentType = contentType;
    }

    /** The name in the API ({@code /v1/jobs/{id}/outputs/{name}}) and in {@code JobCompleted.outputs}. */
    public String outputName() {
        return outputName;
    }

    public String file() {
        return file;
    }

    public String contentType() {
        return contentType;
    }

    /** Exists while the job runs (the rest only once it has SUCCEEDED). */
    public boolean whileRunning() {
        return this == POSE_PREVIEW;
    }

    /** The object key of this output of a job. */
    public String key(String jobId) {
        return this == POSE_PREVIEW ? StorageLayout.posePreview(jobId) : StorageLayout.output(jobId, file);
    }

    public static Optional<Output> named(String name) {
        return Arrays.stream(values()).filter(o -> o.outputName.equals(name)).findFirst();
    }
}
