package io.xdyna.pose.service;

import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.xdyna.contract.event.JobRequest;
import io.xdyna.contract.event.JobStatus;
import io.xdyna.contract.job.JobFailure;
import io.xdyna.pose.dwpose.DwPose;
import io.xdyna.pose.dwpose.PoseBundle;
import io.xdyna.shared.job.InputPolicy;
import io.xdyna.shared.kafka.EventPublisher;
import io.xdyna.shared.kafka.KafkaSetup;
import io.xdyna.shared.service.ManagedService;
import io.xdyna.shared.service.Resources;
import io.xdyna.shared.stage.DeadLetters;
import io.xdyna.shared.stage.GroupStageConsumer;
import io.xdyna.shared.stage.JobProcessor;
import io.xdyna.shared.stage.JobStatusLog;
import io.xdyna.shared.stage.Stage;
import io.xdyna.shared.stage.StatusReporter;
import io.xdyna.shared.storage.ObjectStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pose extractor: takes JobRequests from a consumer group on the requests topic, builds
 * X-Dyna's conditions ({@link ConditionPipeline}) and emits ConditionsReady. Without a valid pose
 * bundle it still starts (health and metrics answer) but says on {@code /health/ready} what is
 * missing and where to get it, and takes no jobs: they wait in the topic.
 */
public final class PoseExtractorService implements ManagedService {
    private static final Logger LOG = LoggerFactory.getLogger(PoseExtractorService.class);
    private static final int LOCAL_ATTEMPTS = 3;

    private final PoseExtractorConfig config;
    private volatile String modelProblem;
    private DwPose dwpose;
    private EventPublisher publisher;
    private ObjectStore store;
    private GroupStageConsumer consumer;
    private Vertx vertx;

    public PoseExtractorService(PoseExtractorConfig config) {
        this.config = config;
    }

    @Override
    public String name() {
        return Stage.EXTRACT.service();
    }

    @Override
    public Future<Void> start(Vertx vertx, MeterRegistry metrics) {
        this.vertx = vertx;
        return vertx.executeBlocking(() -> {
            startBlocking(metrics);
            return null;
        }, false);
    }

    private JobStatusLog statuses;

    private void startBlocking(MeterRegistry metrics) {
        try {
            dwpose = DwPose.load(PoseBundle.load(config.modelDir()));
        } catch (JobFailure f) {
            modelProblem = f.code() + ": " + f.getMessage();
            LOG.error("pose extractor takes no jobs: {}", modelProblem);
            return;
        }
        publisher = new EventPublisher(config.common().kafkaBootstrap(), "xdyna-pose-extractor");
        store = new ObjectStore(config.common());
        StatusReporter status = new StatusReporter(publisher, config.common().topics(), 2.0);
        DeadLetters dlq = new DeadLetters(publisher, config.common().topics(), name());
        ExtractHandler handler = new ExtractHandler(
                new ConditionPipeline(dwpose, config.maxDecodeSide(), config.smoothPoses(), config.detEvery()), store,
                config.common().topics(), config.workDir());
        // a job cancelled while queued is skipped instead of extracted
        statuses = new JobStatusLog(config.common().kafkaBootstrap(), config.common().topics().status(),
                "xdyna-pose-extractor").start();
        JobProcessor<JobRequest> processor = new JobProcessor<>(Stage.EXTRACT, JobRequest.class, handler, status,
                publisher, dlq, LOCAL_ATTEMPTS, metrics).withCancellation(statuses::cancelled)
                .withLimits(config.limits(), store)
                // before anything is read: a request may only name its own tenant's objects
                .withAdmission(r -> config.inputs().check(r, id -> InputPolicy.submittedBy(store, id)
                        .or(() -> statuses.get(id).map(JobStatus::tenant))));
        String topic = config.common().topics().requests();
        consumer = new GroupStageConsumer("pose-extractor", topic,
                KafkaSetup.consumer(config.common().kafkaBootstrap(), config.groupId(), "xdyna-pose-extractor"),
                processor, Duration.ofSeconds(30));
        consumer.start();
        LOG.info("pose extractor consuming {} as group {} with {}", topic, config.groupId(),
                dwpose.bundle().modelId());
    }

    @Override
    public List<String> notReadyReasons() {
        List<String> reasons = new ArrayList<>();
        if (modelProblem != null) {
            reasons.add(modelProblem);
        } else if (consumer == null) {
            reasons.add("starting");
        } else if (!consumer.healthy()) {
            reasons.add("not connected to Kafka at " + config.common().kafkaBootstrap() + " (group "
                    + config.groupId() + ")");
        }
        return reasons;
    }

    /** The job id being extracted now, or null. */
    public String currentJob() {
        return consumer == null ? null : consumer.currentJob();
    }

    @Override
    public Future<Void> stop() {
        return vertx == null ? Future.succeededFuture(stopBlocking()) : vertx.executeBlocking(this::stopBlocking, false);
    }

    private Void stopBlocking() {
        Resources.closeAll(consumer, statuses, publisher, store, dwpose);
        return null;
    }
}
