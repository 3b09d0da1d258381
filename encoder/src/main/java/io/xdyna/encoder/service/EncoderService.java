package io.xdyna.encoder.service;

import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.xdyna.contract.event.FramesReady;
import io.xdyna.encoder.video.Codecs;
import io.xdyna.encoder.video.VideoSettings;
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
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * The encoder as a service: a member of the encoders' consumer group ({@code XDYNA_ENCODER_GROUP},
 * default topic prefix + {@code encoder}) on the frames topic, one
 * job at a time, each turned into the job's outputs by {@link EncodeHandler}. Refuses to start
 * when the FFmpeg build lacks libx264, rather than writing another codec.
 */
public final class EncoderService implements ManagedService {
    /** Transient failures (storage, broker) are retried this many times in process before redelivery. */
    static final int MAX_ATTEMPTS = 3;

    private final EncoderConfig config;
    private final String groupId;
    private Vertx vertx;
    private ObjectStore store;
    private EventPublisher publisher;
    private EncodeHandler handler;
    private GroupStageConsumer consumer;

    public EncoderService(EncoderConfig config) {
        this(config, config.common().topics().encoderGroup());
    }

    public EncoderService(EncoderConfig config, String groupId) {
        this.config = config;
        this.groupId = groupId;
    }

    @Override
    public String name() {
        return "encoder";
    }

    @Override
    public Future<Void> start(Vertx vertx, MeterRegistry metrics) {
        this.vertx = vertx;
        return vertx.executeBlocking(() -> {
            Codecs.requireEncoder(VideoSettings.CODEC);
            Files.createDirectories(config.workDir());
            var common = config.common();
            String clientId = "encoder-" + UUID.randomUUID().toString().substring(0, 8);
            store = new ObjectStore(common);
            publisher = new EventPublisher(common.kafkaBootstrap(), clientId);
            StatusReporter status = new StatusReporter(publisher, common.topics(), 2.0);
            DeadLetters dead = new DeadLetters(publisher, common.topics(), Stage.ENCODE.service());
            handler = new EncodeHandler(config, store, metrics);
            // a job cancelled before its frames arrive is not encoded
            statuses = new JobStatusLog(common.kafkaBootstrap(), common.topics().status(), clientId).start();
            JobProcessor<FramesReady> processor = new JobProcessor<>(Stage.ENCODE, FramesReady.class, handler, status,
                    publisher, dead, MAX_ATTEMPTS, metrics).withCancellation(statuses::cancelled)
                    .withLimits(config.limits(), store);
            consumer = new GroupStageConsumer("encoder", common.topics().frames(),
                    KafkaSetup.consumer(common.kafkaBootstrap(), groupId, clientId), processor, Duration.ofSeconds(60));
            consumer.start();
            return null;
        });
    }

    @Override
    public List<String> notReadyReasons() {
        List<String> reasons = new ArrayList<>();
        if (consumer == null || !consumer.healthy()) {
            reasons.add("not yet consuming " + config.common().topics().frames() + " as group " + groupId);
        }
        if (store == null || !store.reachable()) {
            reasons.add("bucket " + config.common().s3Bucket() + " at " + config.common().s3Endpoint()
                    + " is not reachable");
        }
        return reasons;
    }

    /** The job being encoded, or null. */
    public String currentJob() {
        return consumer == null ? null : consumer.currentJob();
    }

    private JobStatusLog statuses;

    @Override
    public Future<Void> stop() {
        if (vertx == null) {
            return Future.succeededFuture();
        }
        return vertx.executeBlocking(() -> {
            Resources.closeAll(consumer, statuses, handler, publisher, store);
            return null;
        });
    }
}
