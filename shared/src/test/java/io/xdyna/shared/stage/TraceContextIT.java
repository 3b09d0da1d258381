package io.xdyna.shared.stage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Scope;
import io.xdyna.contract.event.Events;
import io.xdyna.contract.event.JobInputs;
import io.xdyna.contract.event.JobRequest;
import io.xdyna.contract.job.JobParams;
import io.xdyna.shared.config.CommonConfig;
import io.xdyna.shared.kafka.EventPublisher;
import io.xdyna.shared.kafka.KafkaSetup;
import io.xdyna.shared.telemetry.Tracing;
import io.xdyna.shared.testing.TestEnvironments;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.slf4j.MDC;

/**
 * One job is one trace: the trace context goes out in record headers, a stage consumer continues it
 * around the job, and what the job publishes (next event, status) carries it on. Real broker, no mocks.
 * (Here rather than in shared: shared's tests cannot use the testkit, which depends on shared.)
 */
class TraceContextIT {
    static CommonConfig common;
    static EventPublisher publisher;
    static GroupStageConsumer stage;
    /** Trace id in the MDC while the handler ran, per job. */
    static final Map<String, String> mdcTraceIds = new ConcurrentHashMap<>();

    @BeforeAll
    static void start() {
        common = TestEnvironments.newEnvironment("trace-context");
        publisher = new EventPublisher(common.kafkaBootstrap(), "it-trace");
        StatusReporter status = new StatusReporter(publisher, common.topics(), 2.0);
        DeadLetters dlq = new DeadLetters(publisher, common.topics(), "it-stage");
        // a stage that reports its state and hands the job on (the payload does not matter here)
        StageHandler<JobRequest> forward = (e, ctx) -> {
            mdcTraceIds.put(e.id(), String.valueOf(MDC.get(Tracing.MDC_TRACE_ID)));
            ctx.started("working");
            ctx.emit(common.topics().conditions(), e);
        };
        JobProcessor<JobRequest> processor = new JobProcessor<>(Stage.EXTRACT, JobRequest.class, forward, status,
                publisher, dlq, 1, new SimpleMeterRegistry());
        stage = new GroupStageConsumer("it-stage", common.topics().requests(),
                KafkaSetup.consumer(common.kafkaBootstrap(), common.topics().prefix() + "it-stage", "it-stage"),
                processor, Duration.ofSeconds(5));
        stage.start();
    }

    @AfterAll
    static void stop() {
        stage.close();
        publisher.close();
    }

    static JobRequest request(String id) {
        return new JobRequest(null, id, "acme", null, new JobInputs("in/ref.jpg", "in/drive.mp4", null),
                JobParams.defaults());
    }

    @Test
    @DisplayName("a request sent in a span: the stage's next event and status continue the trace in a span of its own")
    void stageContinuesTheSendersTrace() {
        Span origin = Tracing.forService("it-origin").tracer().spanBuilder("submit").startSpan();
        try (Scope ignored = origin.makeCurrent()) {
            publisher.send(common.topics().requests(), request("traced-1"));
        } finally {
            origin.end();
        }
        String traceId = origin.getSpanContext().getTraceId();

        Traceparent sent = single(common.topics().requests(), "traced-1");
        assertThat(sent.traceId()).isEqualTo(traceId);
        assertThat(sent.spanId()).isEqualTo(origin.getSpanContext().getSpanId());

        Traceparent next = single(common.topics().conditions(), "traced-1");
        List<Traceparent> statuses = awaitKeyed(common.topics().status(), "traced-1", 1);
        assertThat(next.traceId()).isEqualTo(traceId);
        assertThat(statuses).extracting(Traceparent::traceId).containsOnly(traceId);
        // the stage's own span is the parent of what it sends, not the sender's
        assertThat(next.spanId()).isNotEqualTo(sent.spanId());
        assertThat(statuses).extracting(Traceparent::spanId).containsOnly(next.spanId());
        assertThat(mdcTraceIds).containsEntry("traced-1", traceId);
    }

    @Test
    @DisplayName("a request with its own traceparent header (another system's producer) is continued")
    void foreignTraceparentIsContinued() {
        String foreignTrace = "4bf92f3577b34da6a3ce929d0e0e4736";
        String foreignSpan = "00f067aa0ba902b7";
        publisher.sendRaw(common.topics().requests(), "foreign-1",
                Events.encode(request("foreign-1")),
                Map.of(Tracing.TRACEPARENT, "00-" + foreignTrace + "-" + foreignSpan + "-01"));

        Traceparent next = single(common.topics().conditions(), "foreign-1");
        assertThat(next.traceId()).isEqualTo(foreignTrace);
        assertThat(next.spanId()).isNotEqualTo(foreignSpan);
        assertThat(awaitKeyed(common.topics().status(), "foreign-1", 1)).extracting(Traceparent::traceId)
                .containsOnly(foreignTrace);
        assertThat(mdcTraceIds).containsEntry("foreign-1", foreignTrace);
    }

    @Test
    @DisplayName("a request without trace context starts a new trace at the stage, carried on from there")
    void untracedRequestStartsATrace() {
        publisher.send(common.topics().requests(), request("untraced-1"));

        assertThat(records(common.topics().requests(), "untraced-1")).singleElement()
                .satisfies(r -> assertThat(r.headers().lastHeader(Tracing.TRACEPARENT)).isNull());
        Traceparent next = single(common.topics().conditions(), "untraced-1");
        assertThat(next.traceId()).matches("[0-9a-f]{32}").isNotEqualTo("0".repeat(32));
        assertThat(awaitKeyed(common.topics().status(), "untraced-1", 1)).extracting(Traceparent::traceId)
                .containsOnly(next.traceId());
        assertThat(mdcTraceIds).containsEntry("untraced-1", next.traceId());
    }

    /** A parsed W3C {@code traceparent} header: {@code 00-<trace id>-<span id>-<flags>}. */
    record Traceparent(String traceId, String spanId) {
        static Traceparent of(ConsumerRecord<String, byte[]> r) {
            Header h = r.headers().lastHeader(Tracing.TRACEPARENT);
            assertThat(h).as("traceparent on %s@%d (%s)", r.topic(), r.offset(), r.key()).isNotNull();
            String[] parts = new String(h.value(), StandardCharsets.UTF_8).split("-");
            assertThat(parts).hasSize(4);
            assertThat(parts[0]).isEqualTo("00");
            return new Traceparent(parts[1], parts[2]);
        }
    }

    static Traceparent single(String topic, String key) {
        List<Traceparent> found = awaitKeyed(topic, key, 1);
        assertThat(found).hasSize(1);
        return found.get(0);
    }

    /** Waits until the topic holds at least {@code n} records keyed {@code key}; their trace context. */
    static List<Traceparent> awaitKeyed(String topic, String key, int n) {
        List<ConsumerRecord<String, byte[]>> found = new ArrayList<>();
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() -> {
            found.clear();
            found.addAll(records(topic, key));
            return found.size() >= n;
        });
        return found.stream().map(Traceparent::of).toList();
    }

    /** Every record the topic holds now with this key. */
    static List<ConsumerRecord<String, byte[]>> records(String topic, String key) {
        return StageTopics.readAll(common.kafkaBootstrap(), topic).stream().filter(r -> key.equals(r.key())).toList();
    }
}
