package io.xdyna.contract.storage;

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

    /**
     * What the gateway recorded about an upload (tenant, callback, probe results), JSON; written by the
     * gateway after the inputs, read by gateways and by the pose extractor's entrance check.
     */
    public static String inputSubmission(String id) {
        return jobPrefix(id) + "inputs/submission.json";
    }

    /** The prefix under which a tenant's own uploads for requests on Kafka live. */
    public static String tenantUploads(String tenant) {
        return "uploads/" + tenant + "/";
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

    /**
     * The animator's record that it finished the job: the FramesReady it is about to send. Written
     * before the event, so a later delivery of the job knows the sampling is done (never sampled again).
     */
    public static String animateDone(String id) {
        return jobPrefix(id) + "frames-ready.json";
    }

    /**
     * Window-parallel sampling of a job (animator coordinator and helpers): everything under one prefix
     * per coordinator run ({@code run} = its lease token), so a later run never reads an earlier run's
     * late results; deleted step by step and when the job ends.
     */
    public static String splitPrefix(String id) {
        return jobPrefix(id) + "split/";
    }

    public static String splitStep(String id, String run, int step) {
        return splitPrefix(id) + run + "/step-" + step + "/";
    }

    /** A window batch's latent input (the guidance half, once per window), written by the coordinator. */
    public static String splitInput(String id, String run, int step, int batch) {
        return splitStep(id, run, step) + "batch-" + batch + ".input";
    }

    /** Who computes a window batch, with a heartbeat (JSON). */
    public static String splitClaim(String id, String run, int step, int batch) {
        return splitStep(id, run, step) + "batch-" + batch + ".claim";
    }

    /** A window batch's noise prediction, written by whoever computed it. */
    public static String splitResult(String id, String run, int step, int batch) {
        return splitStep(id, run, step) + "batch-" + batch + ".pred";
    }

    /** Idle animators announce themselves here (one small object each, renewed while idle). */
    public static String idleAnimatorPrefix() {
        return "fleet/animators/idle/";
    }

    public static String idleAnimator(String owner) {
        return idleAnimatorPrefix() + owner + ".json";
    }

    /** Prefix of the leases of jobs a stage is running now (one small object per running job). */
    public static String leasePrefix(String stage) {
        return "leases/" + stage + "/";
    }

    /** The lease of a job a stage is running: who runs it, until when, and the record to requeue. */
    public static String lease(String stage, String id) {
        return leasePrefix(stage) + id + ".json";
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
