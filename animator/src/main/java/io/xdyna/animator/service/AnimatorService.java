package io.xdyna.animator.service;

import io.xdyna.animator.model.AnimatorModels;
import io.xdyna.animator.model.BundleValidator;
import io.xdyna.animator.pipeline.AnimationPipeline;
import io.xdyna.animator.pipeline.PipelineOptions;
import io.xdyna.animator.queue.AnimatorQueue;
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
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * The animator as a stage: takes ConditionsReady jobs from the queue ({@link AnimatorQueue}: a share
 * group, and a lease per running job), runs X-Dyna's sampling on the model bundle and emits
 * FramesReady. Without a valid bundle it still starts (so health and metrics answer) but reports why on
 * {@code /health/ready}, fails {@code /health/live} (the bundle is only read at start: a restart re-reads
 * the volume instead of an unready pod holding its GPU forever) and takes no jobs: they wait in the queue.
 */
public final class AnimatorService {
    /** Transient failures (storage, broker) are retried this many times in process before redelivery. */
    static final int LOCAL_ATTEMPTS = 3;

    private AnimatorService() {
    }

    public static StageService<ConditionsReady> create(AnimatorConfig config) {
        return StageService.builder(Stage.ANIMATE, ConditionsReady.class, config.common())
                .model(() -> loadModels(config), true)
                .handler(rt -> {
                    AnimatorModels models = rt.model(AnimatorModels.class);
                    AnimationPipeline pipeline = new AnimationPipeline(models, new PipelineOptions(
                            config.reuseControlNet(), config.memoryLimitBytes(), config.windowBatch()));
                    return new AnimateHandler(pipeline, rt.store(), config.common().topics(),
                            config.checkpointEvery(), rt.metrics());
                })
                .localAttempts(LOCAL_ATTEMPTS)
                .limits(config.limits())
                .source((rt, processor) -> queue(config, rt, processor))
                .build();
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
            JobProcessor<ConditionsReady> processor) {
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
        JobLeases leases = new JobLeases(rt.store(), rt.publisher(), topic, instanceId(), config.leaseTtl());
        LeaseReaper reaper = new LeaseReaper(leases, new AttemptLedger(rt.store(), Stage.ANIMATE),
                id -> rt.statuses().get(id).map(JobStatus::state));
        AnimatorQueue queue = new AnimatorQueue("animator", topic, KafkaSetup.shareConsumer(config.common().kafkaBootstrap(),
                config.shareGroup(), rt.clientId()), run, overLimit,
                (id, lease) -> skipReason(config, rt, id, lease), leases, config.maxDeliveries(), Duration.ofSeconds(30),
                rt.metrics());
        return new LeasedQueue(queue, reaper, topic + " as share group " + config.shareGroup() + " (animator "
                + leases.owner() + ", model " + rt.model(AnimatorModels.class).manifest().modelId() + ", lease ttl "
                + config.leaseTtl() + ")");
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
