package io.xdyna.animator.service;

import io.xdyna.animator.model.AnimatorModels;
import io.xdyna.animator.model.BundleValidator;
import io.xdyna.animator.parallel.HelperTasks;
import io.xdyna.animator.parallel.IdleAnimators;
import io.xdyna.animator.parallel.Splits;
import io.xdyna.animator.pipeline.AnimationPipeline;
import io.xdyna.animator.pipeline.PipelineOptions;
import io.xdyna.animator.queue.AnimatorQueue;
import io.xdyna.animator.queue.IdleWork;
import io.xdyna.animator.queue.JobLease;
import io.xdyna.animator.queue.JobLeases;
import io.xdyna.animator.queue.LeaseReaper;
import io.xdyna.animator.queue.LeasedQueue;
import io.xdyna.contract.event.ConditionsReady;
import io.xdyna.contract.event.JobStatus;
import io.xdyna.contract.job.ErrorCode;
import io.xdyna.contract.job.JobFailure;
import io.xdyna.contract.job.JobState;
import io.xdyna.contract.storage.StorageLayout;
import io.xdyna.shared.kafka.KafkaSetup;
import io.xdyna.shared.stage.AttemptLedger;
import io.xdyna.shared.stage.JobProcessor;
import io.xdyna.shared.stage.Stage;
import io.xdyna.shared.stage.StageService;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.KafkaShareConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The animator as a stage: takes ConditionsReady jobs from the queue ({@link AnimatorQueue}: a share
 * group, and a lease per running job), runs X-Dyna's sampling on the model bundle and emits
 * FramesReady. Without a valid bundle it still starts (so health and metrics answer) but reports why on
 * {@code /health/ready}, fails {@code /health/live} (the bundle is only read at start: a restart re-reads
 * the volume instead of an unready pod holding its GPU forever) and takes no jobs: they wait in the queue.
 */
public final class AnimatorService {
    private static final Logger LOG = LoggerFactory.getLogger(AnimatorService.class);
    /** Transient failures (storage, broker) are retried this many times in process before redelivery. */
    static final int LOCAL_ATTEMPTS = 3;

    private AnimatorService() {
    }

    public static StageService<ConditionsReady> create(AnimatorConfig config) {
        String owner = instanceId();
        // asked once at start by whichever of the handler and the job source is built first
        Supplier<Boolean> splitting = memoize(() -> splitting(config));
        return StageService.builder(Stage.ANIMATE, ConditionsReady.class, config.common())
                .model(() -> loadModels(config), true)
                .handler(rt -> {
                    JobLeases leases = leases(config, rt, owner);
                    Splits splits = !splitting.get() ? Splits.OFF : Splits.coordinators(rt.store(), rt.publisher(),
                            config.common().topics().animatorTasks(), new IdleAnimators(rt.store(), owner,
                                    config.leaseTtl()), config.split(), config.splitClaimWait(), config.leaseTtl(),
                            owner, leases::read, rt.metrics());
                    return new AnimateHandler(pipeline(config, rt), rt.store(), config.common().topics(),
                            config.checkpointEvery(), rt.metrics(), AnimateHandler.defaultCacheDir(), splits);
                })
                .localAttempts(LOCAL_ATTEMPTS)
                .limits(config.limits())
                .source((rt, processor) -> queue(config, rt, processor, owner, splitting.get()))
                .build();
    }

    /**
     * Window-parallel sampling is on unless {@code XDYNA_SPLIT=off} or the tasks topic is missing (a deployment
     * older than it: producing to a missing topic would stall every step until the producer gives up).
     */
    private static boolean splitting(AnimatorConfig config) {
        if (config.split().off()) {
            return false;
        }
        String topic = config.common().topics().animatorTasks();
        if (!KafkaSetup.topicExists(config.common().kafkaBootstrap(), topic)) {
            LOG.warn("topic {} is missing: window-parallel sampling is off on this animator; create it as"
                    + " docs/deployment.md §4.3 says (one partition) and restart", topic);
            return false;
        }
        return true;
    }

    private static <T> Supplier<T> memoize(Supplier<T> source) {
        AtomicReference<T> value = new AtomicReference<>();
        return () -> value.updateAndGet(v -> v != null ? v : source.get());
    }

    private static AnimationPipeline pipeline(AnimatorConfig config, StageService.Runtime rt) {
        return new AnimationPipeline(rt.model(AnimatorModels.class), new PipelineOptions(config.reuseControlNet(),
                config.memoryLimitBytes(), config.windowBatch()));
    }

    private static JobLeases leases(AnimatorConfig config, StageService.Runtime rt, String owner) {
        return new JobLeases(rt.store(), rt.publisher(), config.common().topics().conditions(), owner,
                config.leaseTtl());
    }

    /**
     * While idle, this animator helps other animators' jobs (window-parallel sampling), unless
     * {@code XDYNA_SPLIT=off}.
     */
    private static IdleWork helper(AnimatorConfig config, StageService.Runtime rt, JobLeases leases,
            boolean splitting) {
        if (!splitting) {
            return IdleWork.NONE;
        }
        String group = config.common().topics().animatorTaskGroup();
        KafkaSetup.ensureShareGroup(config.common().kafkaBootstrap(), group, null);
        AnimationPipeline pipeline = pipeline(config, rt);
        Path cacheDir = AnimateHandler.defaultCacheDir();
        HelperTasks.Preparer preparer = job -> {
            JobInputs inputs = JobInputs.load(rt.store(), job, cacheDir);
            try {
                return new HelperTasks.PreparedJob(pipeline.prepare(inputs.request(JobInputs.bareRequest(job))),
                        inputs);
            } catch (RuntimeException e) {
                inputs.close();
                throw e;
            }
        };
        var props = KafkaSetup.shareConsumer(config.common().kafkaBootstrap(), group, rt.clientId() + "-helper");
        return new HelperTasks(() -> new KafkaShareConsumer<>(props), config.common().topics().animatorTasks(),
                rt.store(), leases::read, id -> rt.statuses().get(id), leases.owner(), pipeline, preparer,
                new IdleAnimators(rt.store(), leases.owner(), config.leaseTtl()), config.leaseTtl(),
                config.drillTaskDelayMs(), rt.metrics());
    }

    private static AnimatorModels loadModels(AnimatorConfig config) {
        try {
            return AnimatorModels.load(config.modelDir(), config.device());
        } catch (JobFailure f) {
            throw f.getMessage().contains("pretrained_weights/README.md") ? f
                    : JobFailure.permanent(f.code(), f.getMessage() + "; " + BundleValidator.HELP, f);
        } catch (RuntimeException e) {
            throw JobFailure.permanent(ErrorCode.MODEL_INVALID, "cannot load the model bundle " + config.modelDir()
                    + ": " + e + "; " + BundleValidator.HELP, e);
        }
    }

    private static LeasedQueue queue(AnimatorConfig config, StageService.Runtime rt,
            JobProcessor<ConditionsReady> processor, String owner, boolean splitting) {
        AnimatorQueue.Processor run = (r, finalDelivery, stopping) -> processor.process(r.topic(), r.partition(),
                r.offset(), r.key(), r.value(), finalDelivery, stopping);
        AnimatorQueue.Processor overLimit = (r, finalDelivery, stopping) -> {
            int n = r.deliveryCount().map(Short::intValue).orElse(0);
            JobProcessor<ConditionsReady> giveUp = new JobProcessor<>(Stage.ANIMATE, ConditionsReady.class, (e, ctx) -> {
                throw JobFailure.permanent(ErrorCode.DELIVERY_LIMIT, "the job was delivered " + n + " times (limit "
                        + config.maxDeliveries() + ") without being claimed: an animator died or was stopped each time"
                        + " while taking it");
            }, rt.status(), rt.publisher(), rt.deadLetters(), 1, rt.metrics());
            return giveUp.process(r.topic(), r.partition(), r.offset(), r.key(), r.value(), true, stopping);
        };
        String topic = config.common().topics().conditions();
        KafkaSetup.ensureShareGroup(config.common().kafkaBootstrap(), config.shareGroup(),
                config.lockDurationMs() > 0 ? config.lockDurationMs() : null);
        JobLeases leases = leases(config, rt, owner);
        LeaseReaper reaper = new LeaseReaper(leases, new AttemptLedger(rt.store(), Stage.ANIMATE),
                id -> rt.statuses().get(id).map(JobStatus::state));
        AnimatorQueue queue = new AnimatorQueue("animator", topic, KafkaSetup.shareConsumer(config.common().kafkaBootstrap(),
                config.shareGroup(), rt.clientId()), run, overLimit,
                (id, lease) -> skipReason(config, rt, id, lease), leases, config.maxDeliveries(), Duration.ofSeconds(30),
                rt.metrics(), helper(config, rt, leases, splitting));
        return new LeasedQueue(queue, reaper, topic + " as share group " + config.shareGroup() + " (animator "
                + leases.owner() + ", model " + rt.model(AnimatorModels.class).manifest().modelId() + ", lease ttl "
                + config.leaseTtl() + ", window split " + config.split() + ")");
    }

    /**
     * Whether a job taken from the queue still needs sampling: not when it is over or being encoded, and
     * not when its frames are done ({@link StorageLayout#animateDone}). When an earlier runner died
     * between writing the frames and sending FramesReady (its lease is still there), the FramesReady
     * it wrote down is sent now.
     */
    private static Optional<String> skipReason(AnimatorConfig config, StageService.Runtime rt, String id,
            Optional<JobLease> lease) {
        Optional<JobState> state = rt.statuses().get(id).map(JobStatus::state);
        if (state.isPresent() && (state.get().terminal() || state.get() == JobState.ENCODING)) {
            return Optional.of("it is " + state.get() + " already");
        }
        String done = StorageLayout.animateDone(id);
        if (!rt.store().exists(done)) {
            return Optional.empty();
        }
        if (lease.isPresent()) {
            rt.publisher().sendRaw(config.common().topics().frames(), id, rt.store().get(done), Map.of());
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
}
