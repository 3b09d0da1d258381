package io.xdyna.shared.service;

import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.Router;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one {@link ManagedService}: a Vert.x instance with Micrometer metrics, the service, and an
 * HTTP server for health, metrics and the service's own routes. {@link #stop(Duration)} (also on SIGTERM)
 * stops the service gracefully, then the server and Vert.x.
 */
public final class ServiceRunner implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ServiceRunner.class);

    private final ManagedService service;
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Vertx vertx;
    private HttpServer server;

    public ServiceRunner(ManagedService service) {
        this.service = service;
        // common tags first: a filter added after meters exist would not apply to them
        registry.config().commonTags("service", service.name());
        new JvmMemoryMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new JvmGcMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        this.vertx = Vertx.builder()
                .with(new VertxOptions().setMetricsOptions(new MicrometerMetricsOptions().setEnabled(true)))
                .withMetrics(new MicrometerMetricsFactory(registry))
                .build();
    }

    /** Starts the service, then listens on {@code port} (0 = any free port). */
    public Future<Integer> start(String host, int port) {
        return service.start(vertx, registry).compose(v -> {
            Router router = Router.router(vertx);
            ManagementRoutes.mount(router, service.name(), service, service::notLiveReasons, registry);
            service.routes(router);
            return vertx.createHttpServer().requestHandler(router).listen(port, host);
        }).map(s -> {
            this.server = s;
            LOG.info("{} listening on {}:{}", service.name(), host, s.actualPort());
            return s.actualPort();
        });
    }

    public Vertx vertx() {
        return vertx;
    }

    public PrometheusMeterRegistry registry() {
        return registry;
    }

    /**
     * Stops the HTTP server and the service (which finishes or hands back its job), then Vert.x.
     * Blocking; call it from a plain thread (shutdown hook, test), never from an event loop: closing
     * Vert.x from inside one of its own callbacks can never complete.
     */
    public void stop(Duration timeout) {
        try {
            Future<Void> closeServer = server == null ? Future.succeededFuture() : server.close();
            closeServer.transform(ar -> service.stop()).toCompletionStage().toCompletableFuture()
                    .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            LOG.warn("{} did not stop cleanly: {}", service.name(), e.toString());
        }
        try {
            vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.warn("closing Vert.x for {}: {}", service.name(), e.toString());
        }
    }

    @Override
    public void close() {
        stop(Duration.ofSeconds(120));
    }

    /**
     * The {@code main} of every service: start, report the port, stop gracefully on SIGTERM. Exits
     * with status 1 and the reason if the service cannot start (bad configuration, port taken).
     */
    public static void runMain(ManagedService service, String host, int port) {
        ServiceRunner runner = new ServiceRunner(service);
        try {
            runner.start(host, port).toCompletionStage().toCompletableFuture().get(5, TimeUnit.MINUTES);
        } catch (Exception e) {
            Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
            LOG.error("{} failed to start: {}", service.name(), cause.getMessage(), cause);
            runner.close();
            System.exit(1);
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            LOG.info("{} shutting down", service.name());
            runner.close();
        }, "shutdown"));
    }
}
