package io.xdyna.shared.telemetry;

import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.xdyna.shared.config.Env;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;
import org.slf4j.MDC;

class TracingTest {
    final Tracing tracing = Tracing.create("tracing-test", new Env(Map.of()));

    @Test
    void injectedHeadersCarryTheCurrentSpanAndReplaceAnOlderTraceparent() {
        RecordHeaders headers = new RecordHeaders();
        headers.add(Tracing.TRACEPARENT, "00-11111111111111111111111111111111-2222222222222222-01"
                .getBytes(StandardCharsets.UTF_8));
        Span span = tracing.tracer().spanBuilder("send").startSpan();
        try (Scope ignored = span.makeCurrent()) {
            Tracing.inject(headers);
        } finally {
            span.end();
        }
        assertThat(headers.headers(Tracing.TRACEPARENT)).hasSize(1);
        SpanContext extracted = Span.fromContext(Tracing.extract(headers)).getSpanContext();
        assertThat(extracted.isRemote()).isTrue();
        assertThat(extracted.getTraceId()).isEqualTo(span.getSpanContext().getTraceId());
        assertThat(extracted.getSpanId()).isEqualTo(span.getSpanContext().getSpanId());
    }

    @Test
    void withoutASpanNothingIsInjected() {
        RecordHeaders headers = new RecordHeaders();
        Tracing.inject(headers);
        assertThat(headers.toArray()).isEmpty();
        assertThat(Span.fromContext(Tracing.extract(headers)).getSpanContext().isValid()).isFalse();
    }

    @Test
    void aJobSpanContinuesItsParentAndPutsTheTraceIdInTheMdcUntilClosed() {
        Context parent = Tracing.extract(Map.of(Tracing.TRACEPARENT,
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")::get);
        try (Tracing.JobSpan job = tracing.startJob("process", SpanKind.CONSUMER, parent, "job-1")) {
            assertThat(job.traceId()).isEqualTo("4bf92f3577b34da6a3ce929d0e0e4736");
            assertThat(Span.current().getSpanContext().getSpanId()).isNotEqualTo("00f067aa0ba902b7")
                    .isEqualTo(job.span().getSpanContext().getSpanId());
            assertThat(MDC.get(Tracing.MDC_TRACE_ID)).isEqualTo("4bf92f3577b34da6a3ce929d0e0e4736");
        }
        assertThat(MDC.get(Tracing.MDC_TRACE_ID)).isNull();
        assertThat(Span.current().getSpanContext().isValid()).isFalse();
    }

    @Test
    void aJobWithoutParentStartsANewTrace() {
        try (Tracing.JobSpan job = tracing.startJob("process", SpanKind.CONSUMER, Context.root(), null)) {
            assertThat(job.span().getSpanContext().isValid()).isTrue();
            assertThat(job.traceId()).matches("[0-9a-f]{32}");
        }
    }

    @Test
    void otlpHeadersAreParsedFromKeyValuePairs() {
        assertThat(Tracing.headers("api-key=abc, x-tenant = t1,broken")).containsExactly(
                Map.entry("api-key", "abc"), Map.entry("x-tenant", "t1"));
        assertThat(Tracing.headers("")).isEmpty();
    }
}
