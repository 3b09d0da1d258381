package io.xdyna.shared.telemetry;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.context.propagation.TextMapSetter;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporterBuilder;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.ReadWriteSpan;
import io.opentelemetry.sdk.trace.ReadableSpan;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.SdkTracerProviderBuilder;
import io.opentelemetry.sdk.trace.SpanProcessor;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import io.xdyna.shared.config.Env;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * One job is one trace across the services: the W3C trace context ({@code traceparent}) travels in
 * Kafka record headers, every stage continues it in a span of its own around the job, and the trace
 * id is in the logging MDC ({@code traceId}) while the job runs.
 * <p>
 * One OpenTelemetry SDK per service ({@code service.name}); spans are exported over OTLP/HTTP only
 * when {@code OTEL_EXPORTER_OTLP_ENDPOINT} is set. Without it spans are still created (so ids and
 * propagation work) but dropped.
 */
public final class Tracing implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Tracing.class);

    public static final String TRACEPARENT = "traceparent";
    public static final String MDC_TRACE_ID = "traceId";
    public static final AttributeKey<String> JOB_ID = AttributeKey.stringKey("xdyna.job.id");

    private static final TextMapPropagator PROPAGATOR = W3CTraceContextPropagator.getInstance();
    private static final Map<String, Tracing> BY_SERVICE = new ConcurrentHashMap<>();

    static {
        // flush batched spans on exit; services in one JVM (tests, local stack) share this hook
        Runtime.getRuntime().addShutdownHook(new Thread(() -> BY_SERVICE.values().forEach(Tracing::close),
                "tracing-shutdown"));
    }

    private final OpenTelemetrySdk sdk;
    private final Tracer tracer;

    private Tracing(OpenTelemetrySdk sdk, String serviceName) {
        this.sdk = sdk;
        this.tracer = sdk.getTracer("io.xdyna." + serviceName);
    }

    /** The SDK of {@code serviceName} in this JVM, configured from the environment on first use. */
    public static Tracing forService(String serviceName) {
        return BY_SERVICE.computeIfAbsent(serviceName, n -> create(n, Env.system()));
    }

    static Tracing create(String serviceName, Env env) {
        SdkTracerProviderBuilder provider = SdkTracerProvider.builder()
                .setResource(Resource.getDefault().merge(Resource.create(Attributes.of(
                        AttributeKey.stringKey("service.name"), serviceName))))
                .setSampler(Sampler.parentBased(Sampler.alwaysOn()));
        String endpoint = env.string("OTEL_EXPORTER_OTLP_ENDPOINT", "").trim();
        if (!endpoint.isEmpty()) {
            OtlpHttpSpanExporterBuilder exporter = OtlpHttpSpanExporter.builder()
                    .setEndpoint(endpoint.replaceAll("/+$", "") + "/v1/traces");
            headers(env.string("OTEL_EXPORTER_OTLP_HEADERS", "")).forEach(exporter::addHeader);
            provider.addSpanProcessor(BatchSpanProcessor.builder(exporter.build()).build());
            LOG.info("{} exports spans to {}", serviceName, endpoint);
        } else {
            // without any processor the SDK hands out no-op tracers, whose spans have no ids to propagate
            provider.addSpanProcessor(DROP);
        }
        OpenTelemetrySdk sdk = OpenTelemetrySdk.builder().setTracerProvider(provider.build()).build();
        return new Tracing(sdk, serviceName);
    }

    /** {@code OTEL_EXPORTER_OTLP_HEADERS}: {@code key=value,key2=value2}. */
    static Map<String, String> headers(String spec) {
        Map<String, String> h = new LinkedHashMap<>();
        for (String pair : spec.split(",")) {
            int eq = pair.indexOf('=');
            if (eq > 0) {
                h.put(pair.substring(0, eq).trim(), pair.substring(eq + 1).trim());
            }
        }
        return h;
    }

    public Tracer tracer() {
        return tracer;
    }

    /**
     * Starts a span for one job and makes it current on this thread, with its trace id in the MDC, until
     * {@link JobSpan#close()}. {@code parent} is the context that came with the job (record headers,
     * HTTP headers); without one the job starts a new trace.
     */
    public JobSpan startJob(String spanName, SpanKind kind, Context parent, String jobId) {
        Span span = tracer.spanBuilder(spanName).setParent(parent).setSpanKind(kind)
                .setAttribute(JOB_ID, jobId == null ? "?" : jobId).startSpan();
        return new JobSpan(span);
    }

    /** Writes the current trace context into record headers (replacing any there). */
    public static void inject(Headers headers) {
        PROPAGATOR.inject(Context.current(), headers, KAFKA_SETTER);
    }

    /** The trace context a record came with, or the root context when it has none. */
    public static Context extract(Headers headers) {
        return PROPAGATOR.extract(Context.root(), headers, KAFKA_GETTER);
    }

    /** The trace context of an HTTP request (or any header lookup), or the root context. */
    public static Context extract(Function<String, String> header) {
        return PROPAGATOR.extract(Context.root(), header, FUNCTION_GETTER);
    }

    @Override
    public void close() {
        sdk.getSdkTracerProvider().shutdown().join(10, TimeUnit.SECONDS);
    }

    /** A job's span, current on the thread that started it. */
    public static final class JobSpan implements AutoCloseable {
        private final Span span;
        private final Scope scope;
        private final String previousTraceId;

        private JobSpan(Span span) {
            this.span = span;
            this.scope = span.makeCurrent();
            this.previousTraceId = MDC.get(MDC_TRACE_ID);
            MDC.put(MDC_TRACE_ID, span.getSpanContext().getTraceId());
        }

        public Span span() {
            return span;
        }

        public String traceId() {
            return span.getSpanContext().getTraceId();
        }

        @Override
        public void close() {
            if (previousTraceId == null) {
                MDC.remove(MDC_TRACE_ID);
            } else {
                MDC.put(MDC_TRACE_ID, previousTraceId);
            }
            scope.close();
            span.end();
        }
    }

    /** Ends spans without exporting them: ids and propagation without a collector. */
    private static final SpanProcessor DROP = new SpanProcessor() {
        @Override
        public void onStart(Context parentContext, ReadWriteSpan span) {
        }

        @Override
        public boolean isStartRequired() {
            return false;
        }

        @Override
        public void onEnd(ReadableSpan span) {
        }

        @Override
        public boolean isEndRequired() {
            return false;
        }
    };

    private static final TextMapSetter<Headers> KAFKA_SETTER = (headers, key, value) -> {
        if (headers != null) {
            headers.remove(key);
            headers.add(key, value.getBytes(StandardCharsets.UTF_8));
        }
    };

    private static final TextMapGetter<Headers> KAFKA_GETTER = new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(Headers headers) {
            List<String> keys = new ArrayList<>();
            for (Header h : headers) {
                keys.add(h.key());
            }
            return keys;
        }

        @Override
        public String get(Headers headers, String key) {
            Header h = headers == null ? null : headers.lastHeader(key);
            return h == null || h.value() == null ? null : new String(h.value(), StandardCharsets.UTF_8);
        }
    };

    private static final TextMapGetter<Function<String, String>> FUNCTION_GETTER = new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(Function<String, String> carrier) {
            return List.of(TRACEPARENT, "tracestate");
        }

        @Override
        public String get(Function<String, String> carrier, String key) {
            return carrier == null ? null : carrier.apply(key);
        }
    };
}
