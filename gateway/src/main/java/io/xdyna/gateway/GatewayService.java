package io.xdyna.gateway;

import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.StaticHandler;
import io.xdyna.gateway.api.ApiRouter;
import io.xdyna.gateway.api.JobRemoval;
import io.xdyna.gateway.metrics.PipelineMetrics;
import io.xdyna.gateway.retention.RetentionSweeper;
import io.xdyna.gateway.watchdog.StallWatchdog;
import io.xdyna.gateway.webhook.WebhookDispatcher;
import io.xdyna.shared.config.Env;
import io.xdyna.shared.kafka.EventPublisher;
import io.xdyna.shared.service.ManagedService;
import io.xdyna.shared.service.Resources;
import io.xdyna.shared.stage.JobStatusLog;
import io.xdyna.shared.stage.StatusReporter;
import io.xdyna.shared.storage.ObjectStore;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The gateway: the REST API, the web app and the webhook dispatcher, on the same port as health
 * and metrics. Job status comes from the compacted status topic, read whole by every gateway
 * ({@link JobStatusLog}), so status survives restarts and all gateways agree.
 */
public final class GatewayService implements ManagedService {
    private final GatewayConfig config;
    private final Duration webhookFirstRetry;
    private ObjectStore store;
    private EventPublisher publisher;
    private JobStatusLog statuses;
    private WebhookDispatcher webhooks;
    private ApiRouter api;
    private RetentionSweeper retention;
    private StallWatchdog stalls;
    private PipelineMetrics pipelineMetrics;
    private Vertx vertx;

    public GatewayService(GatewayConfig config) {
        this(config, Duration.ofSeconds(1));
    }

    /** @param webhookFirstRetry the first webhook retry delay, doubled per attempt (tests shorten it) */
    public GatewayService(GatewayConfig config, Duration webhookFirstRetry) {
        this.config = config;
        this.webhookFirstRetry = webhookFirstRetry;
    }

    @Override
    public String name() {
        return "gateway";
    }

    @Override
    public Future<Void> start(Vertx vertx, MeterRegistry metrics) {
        this.vertx = vertx;
        return vertx.executeBlocking(() -> {
            Files.createDirectories(config.uploadDir());
            store = new ObjectStore(config.common());
            store.ensureBucket();
            publisher = new EventPublisher(config.common().kafkaBootstrap(), "xdyna-gateway");
            statuses = new JobStatusLog(config.common().kafkaBootstrap(), config.common().topics().status(),
                    "xdyna-gateway").start();
            webhooks = new WebhookDispatcher(config.common().kafkaBootstrap(), config.common().topics().status(),
                    config.common().topics().webhookGroup(), store, config::webhookSecret,
                    webhookFirstRetry, config.webhookEgress(), metrics).start();
            JobRemoval removal = new JobRemoval(store, publisher, config.common().topics().status(), statuses);
            api = new ApiRouter(config, vertx, store, publisher, new StatusReporter(publisher, config.common().topics(),
                    4), statuses, removal, metrics);
            metrics.gauge("xdyna.gateway.jobs.known", statuses, s -> s.all().size());
            pipelineMetrics = new PipelineMetrics(config.common().kafkaBootstrap(),
                    PipelineMetrics.stageInputs(config.common().topics(), Env.system()), statuses, metrics,
                    Duration.ofSeconds(5)).start();
            retention = new RetentionSweeper(vertx, config.retention(), statuses, config.uploadDir(),
                    removal, metrics).start();
            stalls = new StallWatchdog(vertx, config.deadlines().stallAfter(), statuses,
                    new StatusReporter(publisher, config.common().topics(), 4), metrics).start();
            return null;
        }, false);
    }

    @Override
    public void routes(Router router) {
        api.mount(router);
        router.route("/*").handler(StaticHandler.create("webroot").setCachingEnabled(false)
                .setIndexPage("index.html"));
    }

    @Override
    public List<String> notReadyReasons() {
        List<String> r = new ArrayList<>();
        if (statuses == null || !statuses.caughtUp()) {
            r.add("still reading job statuses from Kafka");
        }
        if (store == null || !store.reachable()) {
            r.add("object store unreachable");
        }
        return r;
    }

    @Override
    public Future<Void> stop() {
        // closing joins reader threads: not on the event loop
        return vertx == null ? Future.succeededFuture() : vertx.executeBlocking(() -> {
            close();
            return null;
        }, false);
    }

    private void close() {
        Resources.closeAll(pipelineMetrics, stalls, retention, webhooks, statuses, publisher, store);
    }
}
