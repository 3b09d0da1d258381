package io.xdyna.gateway.webhook;

import dev.failsafe.AsyncExecution;
import dev.failsafe.Failsafe;
import dev.failsafe.RetryPolicy;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.json.JsonObject;
import io.xdyna.contract.event.Events;
import io.xdyna.contract.event.JobStatus;
import io.xdyna.gateway.upload.Submission;
import io.xdyna.shared.kafka.KafkaSetup;
import io.xdyna.shared.retry.Backoff;
import io.xdyna.shared.storage.ObjectStore;
import java.io.IOException;
import java.net.Proxy;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.stream.Collectors;
import okhttp3.Call;
import okhttp3.Callback;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
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
 * job or the reader.
 *
 * <p><b>At-least-once across gateway crashes.</b> A status record's offset is committed only once its
 * delivery has ended (delivered, refused by the receiver, or given up after {@link #MAX_ATTEMPTS}):
 * per partition the committed offset is the lowest one still being delivered. When a gateway dies,
 * the group hands its partitions to another gateway, which delivers again from there. Every delivery
 * carries an id derived from the status record (topic, partition, offset), the same on every attempt
 * and on every gateway ({@code X-Xdyna-Delivery} and {@code deliveryId}), so receivers de-duplicate
 * by it; they order deliveries by {@code job.updatedAt}.
 *
 * <p><b>Egress.</b> Each delivery resolves the callback's host once through the {@link EgressPolicy}
 * and connects to the checked address only (no second lookup, so no DNS rebinding), through no
 * proxy, follows no redirect, gives up after {@link #CALL_TIMEOUT}, and reads none of the answer's
 * body (only its status code matters).
 */
public final class WebhookDispatcher implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(WebhookDispatcher.class);
    static final Duration MIN_PROGRESS_INTERVAL = Duration.ofMillis(500);
    /** Statuses older than this when first read (a new group replaying history) are not announced. */
    static final Duration STALE = Duration.ofMinutes(5);
    static final int MAX_ATTEMPTS = 6;
    /** Connect, send, and read the status line and headers: all within this, or the attempt failed. */
    static final Duration CALL_TIMEOUT = Duration.ofSeconds(10);
    private static final MediaType JSON = MediaType.get("application/json");
    private static final int MAX_CACHED_JOBS = 50_000;

    private final String topic;
    private final KafkaConsumer<String, byte[]> consumer;
    private final ObjectStore store;
    private final Function<String, String> secretOf;
    private final RetryPolicy<Integer> retryPolicy;
    private final EgressPolicy egress;
    private final OkHttpClient http = new OkHttpClient.Builder().proxy(Proxy.NO_PROXY)
            .followRedirects(false).followSslRedirects(false).retryOnConnectionFailure(false)
            .connectTimeout(Duration.ofSeconds(5)).callTimeout(CALL_TIMEOUT).build();
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
    /** Offsets per partition whose delivery has not ended yet; guarded by itself. */
    private final Map<TopicPartition, TreeSet<Long>> pending = new HashMap<>();
    /** Per partition, the offset after the last record handed to {@link #handle}; poll thread only. */
    private final Map<TopicPartition, Long> next = new HashMap<>();
    private final Map<TopicPartition, Long> committed = new HashMap<>();
    private volatile boolean assigned;

    /**
     * @param groupId the consumer group all gateways share
     * @param secretOf a tenant's signing secret
     * @param firstRetry the first backoff (then doubled each attempt)
     * @param egress where deliveries may connect
     */
    public WebhookDispatcher(String bootstrap, String topic, String groupId, ObjectStore store,
            Function<String, String> secretOf, Duration firstRetry, EgressPolicy egress, MeterRegistry metrics) {
        this.topic = topic;
        this.egress = egress;
        this.store = store;
        this.secretOf = secretOf;
        this.retryPolicy = retryPolicy(firstRetry, running::get, () -> count("retried"));
        this.metrics = metrics;
        Properties p = KafkaSetup.consumer(bootstrap, groupId, "xdyna-gateway-webhooks");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 500);
        if (!"consumer".equalsIgnoreCase(p.getProperty(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "classic"))) {
            // a dead gateway's partitions move to a live one after this long (Kafka's default is 45 s);
            // with the newer "consumer" group protocol the broker decides (group.consumer.session.timeout.ms)
            p.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 10_000);
            p.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 2_000);
        }
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
            consumer.subscribe(List.of(topic), new ConsumerRebalanceListener() {
                @Override
                public void onPartitionsRevoked(Collection<TopicPartition> revoked) {
                    // hand over what is safely delivered; the new owner delivers the rest again
                    commitSafe(true);
                    forgetPartitions(revoked);
                }

                @Override
                public void onPartitionsLost(Collection<TopicPartition> lost) {
                    forgetPartitions(lost);
                }

                @Override
                public void onPartitionsAssigned(Collection<TopicPartition> p) {
                    assigned = true;
                }
            });
            while (running.get()) {
                var records = consumer.poll(Duration.ofMillis(200));
                for (ConsumerRecord<String, byte[]> r : records) {
                    TopicPartition tp = new TopicPartition(r.topic(), r.partition());
                    next.put(tp, r.offset() + 1);
                    try {
                        handle(r);
                    } catch (RuntimeException e) {
                        LOG.warn("webhook for {} not sent: {}", r.key(), e.toString());
                    }
                }
                commitSafe(false);
            }
        } catch (WakeupException e) {
            // closing
        } catch (Exception e) {
            LOG.error("webhook dispatcher stopped", e);
        } finally {
            try {
                commitSafe(true);
            } catch (Exception e) {
                LOG.debug("final webhook commit", e);
            }
            consumer.close();
        }
    }

    /**
     * Commits, per partition, the lowest offset whose delivery has not ended (or the offset after the
     * last record read, when none is pending): a crash then re-delivers only what may not have arrived.
     */
    private void commitSafe(boolean sync) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        synchronized (pending) {
            for (Map.Entry<TopicPartition, Long> e : next.entrySet()) {
                TreeSet<Long> open = pending.get(e.getKey());
                long safe = open == null || open.isEmpty() ? e.getValue() : open.first();
                if (!Long.valueOf(safe).equals(committed.get(e.getKey()))) {
                    offsets.put(e.getKey(), new OffsetAndMetadata(safe));
                }
            }
        }
        if (offsets.isEmpty()) {
            return;
        }
        if (sync) {
            consumer.commitSync(offsets, Duration.ofSeconds(5));
            committed.putAll(offsets.entrySet().stream().collect(Collectors.toMap(
                    Map.Entry::getKey, x -> x.getValue().offset())));
        } else {
            consumer.commitAsync(offsets, (done, err) -> {
                if (err == null) {
                    done.forEach((tp, o) -> committed.put(tp, o.offset()));
                }
            });
        }
    }

    private void forgetPartitions(Collection<TopicPartition> partitions) {
        synchronized (pending) {
            for (TopicPartition tp : partitions) {
                pending.remove(tp);
                next.remove(tp);
                committed.remove(tp);
            }
        }
    }

    private void begin(TopicPartition tp, long offset) {
        synchronized (pending) {
            pending.computeIfAbsent(tp, k -> new TreeSet<>()).add(offset);
        }
    }

    private void end(TopicPartition tp, long offset) {
        synchronized (pending) {
            TreeSet<Long> open = pending.get(tp);
            if (open != null) {
                open.remove(offset);
            }
        }
    }

    /** The delivery id of a status record: the same on every attempt and on every gateway. */
    static String deliveryId(String topic, int partition, long offset) {
        return UUID.nameUUIDFromBytes((topic + "/" + partition + "/" + offset).getBytes(StandardCharsets.UTF_8))
                .toString();
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
            TopicPartition tp = new TopicPartition(r.topic(), r.partition());
            begin(tp, r.offset());
            deliver(new Delivery(url.get(), s, deliveryId(r.topic(), r.partition(), r.offset()), tp, r.offset()));
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

    /** One status to one callback, under one id, and the record it came from. */
    private record Delivery(String url, JobStatus status, String id, TopicPartition partition, long offset) {
    }

    /**
     * Runs the delivery's attempts through Failsafe on the {@code webhook-retries} scheduler: the
     * first at once, each retry after its backoff. The outcome is settled in {@link #completed}
     * once no attempt follows.
     */
    private void deliver(Delivery d) {
        Failsafe.with(retryPolicy).with(retries)
                .onComplete(e -> completed(d, e.getAttemptCount(), e.getResult(), e.getException()))
                .getAsyncExecution(execution -> attempt(d, execution));
    }

    /** One POST; what it ends with (a status code or an exception) is recorded on the execution. */
    private void attempt(Delivery d, AsyncExecution<Integer> execution) {
        JobStatus s = d.status();
        // a refusal or a bad URL is thrown, recorded as the outcome, and not retried
        EgressPolicy.Target target = egress.check(URI.create(d.url()));
        JsonObject job = new JsonObject(Events.encodeString(s));
        job.remove("v");
        byte[] body = new JsonObject().put("event", "job.status").put("deliveryId", d.id()).put("job", job)
                .encode().getBytes(StandardCharsets.UTF_8);
        Request req = new Request.Builder().url(d.url())
                .header("User-Agent", "xdyna-gateway-webhooks")
                .header("X-Xdyna-Event", "job.status")
                .header("X-Xdyna-Delivery", d.id())
                .header(WebhookSigner.HEADER, WebhookSigner.signature(secretOf.apply(s.tenant()), body))
                .post(RequestBody.create(body, JSON)).build();
        // the connection goes to the address just checked: the host is never looked up again
        OkHttpClient pinned = http.newBuilder().dns(host -> List.of(target.address())).build();
        pinned.newCall(req).enqueue(new Callback() {
            @Override
            public void onResponse(Call call, Response resp) {
                int code = resp.code();
                resp.close(); // the body is never read
                execution.recordResult(code);
            }

            @Override
            public void onFailure(Call call, IOException err) {
                execution.recordException(err);
            }
        });
    }

    /**
     * Up to {@link #MAX_ATTEMPTS} attempts, {@code firstRetry} apart and doubling, while the answer is
     * a {@link #retryableStatus} or no answer came (an {@link IOException}); none once closing.
     */
    static RetryPolicy<Integer> retryPolicy(Duration firstRetry, BooleanSupplier running, Runnable onRetry) {
        // doubled before every retry: the longest wait is the last retry's, firstRetry * 2^(MAX_ATTEMPTS - 2)
        return Backoff.exponential(firstRetry, firstRetry.multipliedBy(1L << (MAX_ATTEMPTS - 2)))
                .<Integer>policy().withMaxAttempts(MAX_ATTEMPTS)
                .handle(IOException.class)
                .handleResultIf(WebhookDispatcher::retryableStatus)
                // closing: left uncommitted, so the gateway that takes the partition delivers it
                .abortIf((code, err) -> !running.getAsBoolean())
                .onRetryScheduled(e -> onRetry.run())
                .build();
    }

    /** Receivers that are down, overloaded or slow may take it later; any other answer is final. */
    static boolean retryableStatus(Integer code) {
        return code != null && (code >= 500 || code == 408 || code == 429);
    }

    private void completed(Delivery d, int attempts, Integer code, Throwable err) {
        if (err == null && code != null && code >= 200 && code < 300) {
            count("delivered");
            end(d.partition(), d.offset());
            return;
        }
        if (err instanceof EgressPolicy.Refused refused) {
            // accepted at submission, refused now (its name resolves elsewhere, or the policy changed)
            giveUp(d, attempts, "refused by the egress policy: " + refused.getMessage(), "refused");
            return;
        }
        boolean retryable = err instanceof IOException || (err == null && retryableStatus(code));
        if (retryable && attempts < MAX_ATTEMPTS && !running.get()
                || err instanceof RejectedExecutionException) {
            // closing: not committed, so the gateway that takes the partition delivers it
            return;
        }
        giveUp(d, attempts, err != null ? err.toString() : "HTTP " + code, "failed");
    }

    private void giveUp(Delivery d, int attempt, String why, String outcome) {
        count(outcome);
        MDC.put("jobId", d.status().id());
        LOG.warn("webhook {} for job {} ({}) given up after {} attempt(s): {}", d.id(), d.status().id(),
                d.status().state(), attempt, why);
        MDC.remove("jobId");
        end(d.partition(), d.offset());
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
        http.dispatcher().executorService().shutdown();
        http.connectionPool().evictAll();
    }
}
