package io.xdyna.contract.kafka;

/**
 * Topic names and the default names of the groups that read them, all under one prefix
 * ({@code XDYNA_TOPIC_PREFIX}, default {@code xdyna.}) so that several deployments can share a
 * cluster. Every topic is keyed by job id. Services, metrics and the deployment manifests take the
 * group names from here (each can be overridden by its service's {@code XDYNA_*_GROUP}).
 */
public record Topics(String prefix) {
    public static final Topics DEFAULT = new Topics("xdyna.");

    /** Job requests: gateway or external producers to the pose extractor. */
    public String requests() {
        return prefix + "jobs.requests";
    }

    /** Conditions ready: pose extractor to animator (consumed by a share group). */
    public String conditions() {
        return prefix + "jobs.conditions";
    }

    /** Frames ready: animator to encoder. */
    public String frames() {
        return prefix + "jobs.frames";
    }

    /** Job completed: encoder to whoever wants results as events. */
    public String results() {
        return prefix + "jobs.results";
    }

    /** Latest status per job (compacted): every stage to the gateway. */
    public String status() {
        return prefix + "jobs.status";
    }

    /** Records no stage could process, with the reason in headers. */
    public String deadLetter() {
        return prefix + "jobs.dlq";
    }

    /**
     * Window tasks: an animator running a job (the coordinator) offers some of a denoising step's window
     * batches to idle animators (helpers), which take them through a share group. Internal to the animator
     * fleet; one partition, as the job queue.
     */
    public String animatorTasks() {
        return prefix + "animator.tasks";
    }

    /** The pose extractors' consumer group on {@link #requests()}. */
    public String poseGroup() {
        return prefix + "pose-extractor";
    }

    /** The animators' share group on {@link #conditions()}. */
    public String animatorGroup() {
        return prefix + "animator";
    }

    /** The animators' share group on {@link #animatorTasks()} (as helpers). */
    public String animatorTaskGroup() {
        return prefix + "animator-helpers";
    }

    /** The encoders' consumer group on {@link #frames()}. */
    public String encoderGroup() {
        return prefix + "encoder";
    }

    /** The gateways' consumer group on {@link #results()} (webhook deliveries). */
    public String webhookGroup() {
        return prefix + "gateway-webhooks";
    }
}
