package io.xdyna.shared.stage;

import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.xdyna.contract.event.JobEvent;
import io.xdyna.contract.job.JobFailure;
import io.xdyna.shared.config.CommonConfig;
import io.xdyna.shared.kafka.EventPublisher;
import io.xdyna.shared.kafka.KafkaSetup;
import io.xdyna.shared.service.ManagedService;
import io.xdyna.shared.service.Resources;
import io.xdyna.shared.storage.ObjectStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one runtime of every worker service (pose extractor, animator, encoder): its clients, the job
 * processor around its handler, its job source, the readiness and liveness rules and the graceful
 * stop. A stage brings only what differs: its handler (and model), an optional admission check, and
 * where its jobs come from (a consumer group by default; the animators' share-group queue).
 *
 * <p>Start: preflight check (a failure refuses to start), clients, the model (a failure leaves the
 * service up, not ready, taking no jobs: its health says what is missing), status log, handler,
 * processor, source. Stop: the source first (the running job finishes or is handed back), then the
 * clients, the handler and the model.
 */
public final class StageService<E extends JobEvent> implements ManagedService {
    private static final Logger LOG = LoggerFactory.getLogger(StageService.class);

    /** Where a stage's jobs come from; closing it finishes or hands back the running job. */
    public interface JobSource extends AutoCloseable {
        void start();

        /** The loop runs and reaches Kafka (or is busy with a job). */
        boolean healthy();

        /** The job in progress, or null. */
        String currentJob();

        /** For readiness messages, e.g. "jobs.frames as group xdyna.encoder". */
        String describe();

        @Override
        void close();
    }

    /** What a stage's parts are built from, once the clients are up. */
    public record Runtime(CommonConfig common, String clientId, EventPublisher publisher, ObjectStore store,
            StatusReporter status, DeadLetters deadLetters, JobStatusLog statuses, MeterRegistry metrics,
            AutoCloseable model) {
        /** The loaded model, as the stage's own type. */
        public <M> M model(Class<M> type) {
            return type.cast(model);
        }
    }

    /** Builds a stage's job source around its processor. */
    public interface SourceFactory<E extends JobEvent> {
        JobSource create(Runtime runtime, JobProcessor<E> processor);
    }

    /** Loads a stage's model; a {@link JobFailure} or runtime exception leaves the service not ready. */
    public interface ModelLoader {
        AutoCloseable load() throws Exception;
    }

    private final Stage stage;
    private final Class<E> type;
    private final CommonConfig common;
    private final int localAttempts;
    private final StageLimits limits;
    private final Runnable preflight;
    private final ModelLoader modelLoader;
    private final boolean modelProblemFailsLiveness;
    private final Function<Runtime, StageHandler<E>> handlerFactory;
    private final Function<Runtime, Consumer<E>> admission;
    private final SourceFactory<E> sourceFactory;
    private final Duration grace;

    private volatile String modelProblem;
    private volatile Runtime runtime;
    private volatile JobSource source;
    private StageHandler<E> handler;
    private Vertx vertx;

    private StageService(Builder<E> b) {
        this.stage = b.stage;
        this.type = b.type;
        this.common = b.common;
        this.localAttempts = b.localAttempts;
        this.limits = b.limits;
        this.preflight = b.preflight;
        this.modelLoader = b.modelLoader;
        this.modelProblemFailsLiveness = b.modelProblemFailsLiveness;
        this.handlerFactory = Objects.requireNonNull(b.handlerFactory, "handler");
        this.admission = b.admission;
        this.grace = b.grace;
        this.sourceFactory = b.sourceFactory != null ? b.sourceFactory : groupSource(b.group);
    }

    public static <E extends JobEvent> Builder<E> builder(Stage stage, Class<E> type, CommonConfig common) {
        return new Builder<>(stage, type, common);
    }

    /** The default job source: a member of a consumer group on the stage's input topic. */
    private SourceFactory<E> groupSource(String group) {
        Objects.requireNonNull(group, "group (or a source)");
        return (rt, processor) -> new GroupStageConsumer(stage.service(), stage.input(common.topics()),
                KafkaSetup.consumer(common.kafkaBootstrap(), group, rt.clientId()), processor, grace);
    }

    @Override
    public String name() {
        return stage.service();
    }

    @Override
    public Future<Void> start(Vertx vertx, MeterRegistry metrics) {
        this.vertx = vertx;
        return vertx.executeBlocking(() -> {
            startBlocking(metrics);
            return null;
        }, false);
    }

    private void startBlocking(MeterRegistry metrics) throws Exception {
        preflight.run();
        String clientId = "xdyna-" + stage.service() + "-" + UUID.randomUUID().toString().substring(0, 6);
        EventPublisher publisher = new EventPublisher(common.kafkaBootstrap(), clientId);
        ObjectStore store = new ObjectStore(common);
        AutoCloseable model = null;
        if (modelLoader != null) {
            try {
                model = modelLoader.load();
            } catch (JobFailure f) {
                modelProblem = f.code() + ": " + f.getMessage();
            } catch (RuntimeException e) {
                modelProblem = "the model could not be loaded: " + e;
            }
            if (modelProblem != null) {
                LOG.error("{} takes no jobs: {}", stage.service(), modelProblem);
                runtime = new Runtime(common, clientId, publisher, store, null, null, null, metrics, null);
                return;
            }
        }
        StatusReporter status = new StatusReporter(publisher, common.topics(), 2.0);
        DeadLetters deadLetters = new DeadLetters(publisher, common.topics(), stage.service());
        // cancellations and states arrive on the status topic: a cancelled job is skipped or stopped
        JobStatusLog statuses = new JobStatusLog(common.kafkaBootstrap(), common.topics().status(), clientId).start();
        Runtime rt = new Runtime(common, clientId, publisher, store, status, deadLetters, statuses, metrics, model);
        runtime = rt;
        handler = handlerFactory.apply(rt);
        JobProcessor<E> processor = new JobProcessor<>(stage, type, handler, status, publisher, deadLetters,
                localAttempts, metrics).withCancellation(statuses::cancelled).withLimits(limits, store);
        if (admission != null) {
            processor.withAdmission(admission.apply(rt));
        }
        JobSource s = sourceFactory.create(rt, processor);
        s.start();
        source = s;
        LOG.info("{} consuming {}", stage.service(), s.describe());
    }

    /** The job in progress, or null. */
    public String currentJob() {
        JobSource s = source;
        return s == null ? null : s.currentJob();
    }

    @Override
    public List<String> notReadyReasons() {
        List<String> reasons = new ArrayList<>();
        Runtime rt = runtime;
        JobSource s = source;
        if (modelProblem != null) {
            reasons.add(modelProblem);
        } else if (s == null) {
            reasons.add("starting");
        } else if (!s.healthy()) {
            reasons.add("not consuming " + s.describe() + " (Kafka at " + common.kafkaBootstrap() + ")");
        }
        if (rt != null && !rt.store().reachable()) {
            reasons.add("bucket " + common.s3Bucket() + " at " + common.s3Endpoint() + " is not reachable");
        }
        return reasons;
    }

    @Override
    public List<String> notLiveReasons() {
        String problem = modelProblem;
        return problem == null || !modelProblemFailsLiveness ? List.of()
                : List.of("the model did not load and is only read at start; a restart retries: " + problem);
    }

    @Override
    public Future<Void> stop() {
        // the running job may take a window to stop: never on the event loop
        return vertx == null ? Future.succeededFuture(stopBlocking()) : vertx.executeBlocking(this::stopBlocking, false);
    }

    private Void stopBlocking() {
        Runtime rt = runtime;
        List<AutoCloseable> parts = new ArrayList<>();
        parts.add(source);
        if (rt != null) {
            parts.add(rt.statuses());
        }
        parts.add(handler instanceof AutoCloseable c ? c : null);
        if (rt != null) {
            parts.add(rt.publisher());
            parts.add(rt.store());
            parts.add(rt.model());
        }
        Resources.closeAll(parts.toArray(AutoCloseable[]::new));
        return null;
    }

    /** How a stage is put together; see the class comment for the order things happen in. */
    public static final class Builder<E extends JobEvent> {
        private final Stage stage;
        private final Class<E> type;
        private final CommonConfig common;
        private int localAttempts = 3;
        private StageLimits limits;
        private Runnable preflight = () -> { };
        private ModelLoader modelLoader;
        private boolean modelProblemFailsLiveness;
        private Function<Runtime, StageHandler<E>> handlerFactory;
        private Function<Runtime, Consumer<E>> admission;
        private SourceFactory<E> sourceFactory;
        private String group;
        private Duration grace = Duration.ofSeconds(30);

        private Builder(Stage stage, Class<E> type, CommonConfig common) {
            this.stage = stage;
            this.type = type;
            this.common = common;
        }

        /** Transient failures (storage, broker) are retried this many times in process before redelivery. */
        public Builder<E> localAttempts(int n) {
            this.localAttempts = n;
            return this;
        }

        public Builder<E> limits(StageLimits l) {
            this.limits = l;
            return this;
        }

        /** A check that must pass for the service to start at all (e.g. the encoder's codec). */
        public Builder<E> preflight(Runnable check) {
            this.preflight = check;
            return this;
        }

        /**
         * The stage's model, loaded after the clients; without it the service stays up and unready.
         * {@code failsLiveness}: a restart may help (the bundle is only read at start).
         */
        public Builder<E> model(ModelLoader loader, boolean failsLiveness) {
            this.modelLoader = loader;
            this.modelProblemFailsLiveness = failsLiveness;
            return this;
        }

        public Builder<E> handler(Function<Runtime, StageHandler<E>> factory) {
            this.handlerFactory = factory;
            return this;
        }

        /** A check every record passes before any attempt (see {@link JobProcessor#withAdmission}). */
        public Builder<E> admission(Function<Runtime, Consumer<E>> check) {
            this.admission = check;
            return this;
        }

        /** How long a stopping service lets its running job finish before it is handed back. */
        public Builder<E> grace(Duration d) {
            this.grace = d;
            return this;
        }

        /** Jobs from a consumer group on the stage's input topic. */
        public Builder<E> group(String groupId) {
            this.group = groupId;
            return this;
        }

        /** Jobs from another source (the animators' share-group queue). */
        public Builder<E> source(SourceFactory<E> factory) {
            this.sourceFactory = factory;
            return this;
        }

        public StageService<E> build() {
            Objects.requireNonNull(limits, "limits");
            return new StageService<>(this);
        }
    }
}
