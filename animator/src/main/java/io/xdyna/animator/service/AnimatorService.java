package io.xdyna.animator.service;

import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.xdyna.animator.model.AnimatorModels;
import io.xdyna.animator.model.BundleValidator;
import io.xdyna.animator.pipeline.AnimationPipeline;
import io.xdyna.animator.pipeline.PipelineOptions;
import io.xdyna.animator.queue.AnimatorQueue;
import io.xdyna.animator.queue.JobLease;
import io.xdyna.animator.queue.JobLeases;
import io.xdyna.animator.queue.LeaseReaper;
import io.xdyna.contract.event.ConditionsReady;
import io.xdyna.contract.event.JobStatus;
import io.xdyna.contract.job.ErrorCode;
import io.xdyna.contract.job.JobFailure;
import io.xdyna.contract.job.JobState;
import io.xdyna.contract.storage.StorageLayout;
import io.xdyna.shared.kafka.EventPublisher;
import io.xdyna.shared.kafka.KafkaSetup;
import io.xdyna.shared.service.ManagedService;
import io.xdyna.shared.service.Resources;
import io.xdyna.shared.stage.AttemptLedger;
import io.xdyna.shared.stage.DeadLetters;
import io.xdyna.shared.stage.JobProcessor;
import io.xdyna.shared.stage.JobStatusLog;
import io.xdyna.shared.stage.Stage;
import io.xdyna.shared.stage.StageHandler;
import io.xdyna.shared.stage.StatusReporter;
import io.xdyna.shared.storage.ObjectStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The animator: takes ConditionsReady jobs from the queue ({@link AnimatorQueue}: a share group, and a
 * lease per running job), runs X-Dyna's sampling on the model bundle and emits FramesReady. Without a valid bundle it still starts (so health and metrics
 * answer) but reports why on {@code /health/ready} and takes no jobs: they wait in the queue.
 */
public final class AnimatorService implements ManagedService {
    private static final Logger LOG = LoggerFactory.getLogger(AnimatorService.class);
    private static final int LOCAL_ATTEMPTS = 3;

    private final AnimatorConfig config;
    private volatile String modelProblem;
    private AnimatorModels models;
    private EventPublisher publisher;
    private ObjectStore store;
    private AnimatorQueue queue;
    private JobLeases leases;
    private LeaseReaper reaper;
    private Vertx vertx;

    public AnimatorService(AnimatorConfig config) {
        this.config = config;
    }

    @Override
    public String name() {
        return Stage.ANIMATE.service();
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
        publisher = new EventPublisher(config.common().kafkaBootstrap(), "xdyna-animator");
        store = new ObjectStore(config.common());
        try {
            models = AnimatorModels.load(config.modelDir(), config.device());
        } catch (JobFailure f) {
            modelProblem = f.getMessage().contains("pretrained_weights/README.md") ? f.getMessage()
                    : f.getMessage() + "; " + BundleValidator.HELP;
            LOG.error("animator takes no jobs: {} ({})", modelProblem, f.code());
            return;
        } catch (RuntimeException e) {
            modelProblem = "cannot load the model bundle " + config.modelDir() + ": " + e + "; " + BundleValidator.HELP;
            LOG.error("animator takes no jobs", e);
            return;
        }
        StatusReporter status = new StatusReporter(publisher, config.common().topics(), 2.0);
        DeadLetters dlq = new DeadLetters(publisher, config.common().topics(), name());
        AnimationPipeline pipeline = new AnimationPipeline(models,
                new PipelineOptions(config.reuseControlNet(), config.memoryLimitBytes(),
                        config.windowBatch()));
        AnimateHandler handler = new AnimateHandler(pipeline, store, config.common().topics(),
                config.checkpointEvery(), metrics);
        ThreadLocal<AtomicBoolean> succeeded = ThreadLocal.withInitial(AtomicBoolean::new);
        StageHandler<ConditionsReady> tracked = (e, ctx) -> {
            handler.handle(e, ctx);
            succeeded.get().set(true);
        };
        // cancellations arrive on the status topic; the loop checks them between windows
        statuses = new JobStatusLog(config.common().kafkaBootstrap(), config.common().topics().status(),
                "xdyna-animator").start();
        JobProcessor<ConditionsReady> processor = new JobProcessor<>(Stage.ANIMATE, ConditionsReady.class, tracked,
                status, publisher, dlq, LOCAL_ATTEMPTS, metrics).withCancellation(statuses::cancelled)
                .withLimits(config.limits(), store);
        String topic = config.common().topics().conditions();
        AnimatorQueue.Processor run = (r, finalDelivery, stopping) -> {
            succeeded.get().set(false);
            JobProcessor.Outcome o = processor.process(r.topic(), r.partition(), r.offset(), r.key(), r.value(),
                    finalDelivery, stopping);
            return new AnimatorQueue.Result(o, succeeded.get().get());
        };
        AnimatorQueue.Processor overLimit = (r, finalDelivery, stopping) -> {
            int n = r.deliveryCount().map(Short::intValue).orElse(0);
            JobProcessor<ConditionsReady> giveUp = new JobProcessor<>(Stage.ANIMATE, ConditionsReady.class, (e, ctx) -> {
                throw JobFailure.permanent(ErrorCode.DELIVERY_LIMIT, "the job was delivered " + n + " times (limit "
                        + config.maxDeliveries() + ") without being claimed: an animator died or was stopped each time"
                        + " while taking it");
            }, status, publisher, dlq, 1, metrics);
            return new AnimatorQueue.Result(giveUp.process(r.topic(), r.partition(), r.offset(), r.key(), r.value(),
                    true, stopping), false);
        };
        KafkaSetup.ensureShareGroup(config.common().kafkaBootstrap(), config.shareGroup(),
                config.lockDurationMs() > 0 ? config.lockDurationMs() : null);
        leases = new JobLeases(store, publisher, topic, instanceId(), config.leaseTtl());
        reaper = new LeaseReaper(leases, new AttemptLedger(store, Stage.ANIMATE),
                id -> statuses.get(id).map(JobStatus::state)).start();
        queue = new AnimatorQueue("animator", topic, shareConsumerProps(), run, overLimit, this::skipReason, leases,
                config.maxDeliveries(), Duration.ofSeconds(30), metrics);
        queue.start();
        LOG.info("animator {} consuming {} as share group {} with model {} (lease ttl {})", leases.owner(), topic,
                config.shareGroup(), models.manifest().modelId(), config.leaseTtl());
    }

    /**
     * Whether a job taken from the queue still needs sampling: not when it is over or being encoded, and
     * not when its frames are done ({@link StorageLayout#animateDone}). When an earlier runner died
     * between writing the frames and sending FramesReady (its lease is still there), the FramesReady
     * it wrote down is sent now.
     */
    private Optional<String> skipReason(String id, Optional<JobLease> lease) {
        Optional<JobState> state = statuses.get(id).map(JobStatus::state);
        if (state.isPresent() && (state.get().terminal() || state.get() == JobState.ENCODING)) {
            return Optional.of("it is " + state.get() + " already");
        }
        String done = StorageLayout.animateDone(id);
        if (!store.exists(done)) {
            return Optional.empty();
        }
        if (lease.isPresent()) {
            publisher.sendRaw(config.common().topics().frames(), id, store.get(done), Map.of());
            return Optional.of("its frames are done; FramesReady sent again, since its last runner died before"
                    + " releasing the job");
        }
        return Optional.of("its frames are done");
    }

    /** Names this process in leases and logs: host, pid and a random suffix (a restarted pod differs). */
    private static String instanceId() {
        String host = System.getenv().getOrDefault("HOSTNAME", "animator");
        return host + "-" + ProcessHandle.current().pid() + "-" + UUID.randomUUID().toString().substring(0, 6);
    }

    private Properties shareConsumerProps() {
        Properties p = new Properties();
        p.put("bootstrap.servers", config.common().kafkaBootstrap());
        p.put("group.id", config.shareGroup());
        p.put("client.id", "xdyna-animator");
        p.put("share.acknowledgement.mode", "explicit");
        p.put("share.acquire.mode", "record_limit");
        p.put("max.poll.records", 1);
        p.put("key.deserializer", StringDeserializer.class.getName());
        p.put("value.deserializer", ByteArrayDeserializer.class.getName());
        return KafkaSetup.withEnvironment(p); // KAFKA_* security settings, as every other client
    }

    @Override
    public List<String> notReadyReasons() {
        List<String> reasons = new ArrayList<>();
        if (modelProblem != null) {
            reasons.add(modelProblem);
        } else if (queue == null) {
            reasons.add("starting");
        } else if (!queue.healthy()) {
            reasons.add("not connected to Kafka at " + config.common().kafkaBootstrap() + " (share group "
                    + config.shareGroup() + ")");
        }
        return reasons;
    }

    /**
     * The bundle is read once, at start: one that failed to load (missing, incomplete, corrupt, or the
     * wrong device) never loads in this process. Failing liveness makes Kubernetes restart the container,
     * which reads the volume again, with back-off, instead of an unready pod holding its GPU forever.
     */
    @Override
    public List<String> notLiveReasons() {
        String problem = modelProblem;
        return problem == null ? List.of() : List.of("the model bundle did not load and is only read at start;"
                + " a restart retries: " + problem);
    }

    /** The job id being animated now, or null. */
    public String currentJob() {
        return queue == null ? null : queue.currentJob();
    }

    @Override
    public Future<Void> stop() {
        // the running job may take a window to stop: never on the event loop
        return vertx == null ? Future.succeededFuture(stopBlocking()) : vertx.executeBlocking(this::stopBlocking, false);
    }

    private Void stopBlocking() {
        Resources.closeAll(queue, reaper, statuses, publisher, store, models);
        return null;
    }
}
