package io.xdyna.gateway.webhook;

import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.json.JsonObject;
import io.xdyna.gateway.upload.Submission;
import io.xdyna.shared.event.Events;
import io.xdyna.shared.event.JobStatus;
import io.xdyna.shared.kafka.KafkaSetup;
import io.xdyna.shared.storage.ObjectStore;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * POSTs a job's status changes to the callback URL its submission named, signed with the tenant's
 * secret ({@link WebhookSigner}). It reads the status topic in a consumer group shared by all
 * gateways, so each update is delivered by one gateway, not by all. State changes are always sent;
 * progress within a state at most every {@link #MIN_PROGRESS_INTERVAL}. Deliveries are
 * asynchronous and retried with exponential backoff, so a slow or dead receiver never holds up a
 * job or the reader. At-most-once across a gateway crash (offsets are committed once a delivery is
 * scheduled); receivers order deliveries by {@code job.updatedAt}.
 */
public final class WebhookDispatcher implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(WebhookDispatcher.class);
    static final Duration MIN_PROGRESS_INTERVAL = Duration.ofMillis(500);
    /** Statuses older than this when first read (a new group replaying history) are not announced. */
    static final Duration STALE = Duration.ofMinutes(5);
    static final int MAX_ATTEMPTS = 6;
    private static final int MAX_CACHED_JOBS = 50_000;

    private final String topic;
    private final KafkaConsumer<String, byte[]> consumer;
    private final ObjectStore store;
    private final Function<String, String> secretOf;
    private final Duration firstRetry;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5))
            .followRedirects(HttpClient.Redirect.NEVER).build();
    private final ScheduledExecutorService retries = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "webhook-retries");
        t.setDaemon(true);
        return t;
    });
    private final Map<String, Optional<String>> callbacks = new ConcurrentHashMap<>();
    private final Map<String, JobStatus> lastSent = new ConcurrentHashMap<>();
    private final Map<String, Long> lastSentAt = new ConcurrentHashMap<>();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final Thread thread;
    private final MeterRegistry metrics;
    private volatile boolean assigned;

    /**
     * @param groupId the consumer group all gateways share
     * @param secretOf a tenant's signing secret
     * @param firstRetry the first backoff (then doubled each attempt)
     */
    public WebhookDispatcher(String bootstrap, String topic, String groupId, ObjectStore store,
            Function<String, String> secretOf, Duration firstRetry, MeterRegistry metrics) {
        this.topic = topic;
        this.store = store;
        this.secretOf = secretOf;
        this.firstRetry = firstRetry;
        this.metrics = metrics;
        Properties p = KafkaSetup.consumer(bootstrap, groupId, "xdyna-gateway-webhooks");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 500);
        this.consumer = new KafkaConsumer<>(p);
        this.thread = new Thread(this::loop, "webhook-dispatcher");
        this.thread.setDaemon(true);
    }

    public WebhookDispatcher start() {
        thread.start();
        return this;
    }

    /** True once the group has given this gateway its partitions (or decided it gets none). */
    public boolean assigned() {
        return assigned;
    }

    private void loop() {
        try {
            consumer.subscribe(List.of(topic), new org.apache.kafka.clients.consumer.ConsumerRebalanceListener() {
                @Override
                public void onPartitionsRevoked(java.util.Collection<org.apache.kafka.common.TopicPartition> p) {
                }

                @Override
                public void onPartitionsAssigned(java.util.Collection<org.apache.kafka.common.TopicPartition> p) {
                    assigned = true;
                }
            });
            while (running.get()) {
                var records = consumer.poll(Duration.ofMillis(200));
                for (ConsumerRecord<String, byte[]> r : records) {
                    try {
                        handle(r);
                    } catch (RuntimeException e) {
                        LOG.warn("webhook for {} not sent: {}", r.key(), e.toString());
                    }
                }
                if (!records.isEmpty()) {
                    consumer.commitAsync();
                }
            }
        } catch (WakeupException e) {
            // closing
        } catch (Exception e) {
            LOG.error("webhook dispatcher stopped", e);
        } finally {
            try {
                consumer.commitSync(Duration.ofSeconds(5));
            } catch (Exception e) {
                LOG.debug("final webhook commit", e);
            }
            consumer.close();
        }
    }

    private void handle(ConsumerRecord<String, byte[]> r) {
        if (r.value() == null) {
            forget(r.key());
            return;
        }
        JobStatus s = Events.decode(r.value(), JobStatus.class);
        if (callbacks.size() > MAX_CACHED_JOBS) {
            callbacks.clear();
        }
        Optional<String> url = callbacks.computeIfAbsent(s.id(),
                id -> Submission.load(store, id).map(Submission::callbackUrl));
        if (url.isPresent() && shouldSend(s)) {
            lastSent.put(s.id(), s);
            lastSentAt.put(s.id(), System.nanoTime());
            deliver(url.get(), s, UUID.randomUUID().toString(), 1);
        }
        if (s.state().terminal()) {
            forget(s.id());
        }
    }

    private boolean shouldSend(JobStatus s) {
        if (isStale(s)) {
            return false;
        }
        JobStatus prev = lastSent.get(s.id());
        if (prev == null || prev.state() != s.state() || s.state().terminal()) {
            return true;
        }
        Long at = lastSentAt.get(s.id());
        return at == null || System.nanoTime() - at >= MIN_PROGRESS_INTERVAL.toNanos();
    }

    private static boolean isStale(JobStatus s) {
        try {
            return Instant.parse(s.updatedAt()).isBefore(Instant.now().minus(STALE));
        } catch (DateTimeParseException e) {
            return false;
        }
    }

    private void forget(String id) {
        callbacks.remove(id);
        lastSent.remove(id);
        lastSentAt.remove(id);
    }

    private void deliver(String url, JobStatus s, String deliveryId, int attempt) {
        JsonObject job = new JsonObject(Events.encodeString(s));
        job.remove("v");
        byte[] body = new JsonObject().put("event", "job.status").put("deliveryId", deliveryId).put("job", job)
                .encode().getBytes(StandardCharsets.UTF_8);
        HttpRequest req = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10))
                .header("Content-Type", "application/json")
                .header("User-Agent", "xdyna-gateway-webhooks")
                .header("X-Xdyna-Event", "job.status")
                .header("X-Xdyna-Delivery", deliveryId)
                .header(WebhookSigner.HEADER, WebhookSigner.signature(secretOf.apply(s.tenant()), body))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
        http.sendAsync(req, HttpResponse.BodyHandlers.discarding()).whenComplete((resp, err) -> {
            int code = resp == null ? 0 : resp.statusCode();
            if (err == null && code >= 200 && code < 300) {
                count("delivered");
                return;
            }
            boolean retryable = err != null || code >= 500 || code == 408 || code == 429;
            String why = err != null ? err.toString() : "HTTP " + code;
            if (!retryable || attempt >= MAX_ATTEMPTS || !running.get()) {
                count("failed");
                MDC.put("jobId", s.id());
                LOG.warn("webhook {} for job {} ({}) given up after {} attempt(s): {}", deliveryId, s.id(),
                        s.state(), attempt, why);
                MDC.remove("jobId");
                return;
            }
            count("retried");
            long delay = firstRetry.toMillis() << (attempt - 1);
            retries.schedule(() -> deliver(url, s, deliveryId, attempt + 1), delay, TimeUnit.MILLISECONDS);
        });
    }

    private void count(String outcome) {
        if (metrics != null) {
            metrics.counter("xdyna.gateway.webhooks", "outcome", outcome).increment();
        }
    }

    @Override
    public void close() {
        running.set(false);
        consumer.wakeup();
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        retries.shutdownNow();
    }
}
