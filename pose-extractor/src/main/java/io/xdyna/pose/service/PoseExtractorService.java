package io.xdyna.pose.service;

import io.xdyna.contract.event.JobRequest;
import io.xdyna.contract.event.JobStatus;
import io.xdyna.pose.dwpose.DwPose;
import io.xdyna.pose.dwpose.PoseBundle;
import io.xdyna.shared.job.InputPolicy;
import io.xdyna.shared.stage.Stage;
import io.xdyna.shared.stage.StageService;

/**
 * The pose extractor as a stage: takes JobRequests from a consumer group on the requests topic, builds
 * X-Dyna's conditions ({@link ConditionPipeline}) and emits ConditionsReady. Without a valid pose
 * bundle it still starts (health and metrics answer) but says on {@code /health/ready} what is
 * missing and where to get it, and takes no jobs: they wait in the topic.
 */
public final class PoseExtractorService {
    /** Transient failures (storage, broker) are retried this many times in process before redelivery. */
    static final int LOCAL_ATTEMPTS = 3;

    private PoseExtractorService() {
    }

    public static StageService<JobRequest> create(PoseExtractorConfig config) {
        return StageService.builder(Stage.EXTRACT, JobRequest.class, config.common())
                .model(() -> DwPose.load(PoseBundle.load(config.modelDir()), config.poseOptions()), false)
                .handler(rt -> new ExtractHandler(new ConditionPipeline(rt.model(DwPose.class), config.maxDecodeSide(),
                        config.smoothPoses(), config.detEvery(), config.decodeAhead()), rt.store(), config.common().topics(),
                        config.workDir()))
                // before anything is read: a request may only name its own tenant's objects
                .admission(rt -> r -> config.inputs().check(r, id -> InputPolicy.submittedBy(rt.store(), id)
                        .or(() -> rt.statuses().get(id).map(JobStatus::tenant))))
                .localAttempts(LOCAL_ATTEMPTS)
                .limits(config.limits())
                .group(config.groupId())
                .build();
    }
}
