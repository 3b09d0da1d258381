package io.xdyna.animator.parallel;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.micrometer.core.instrument.MeterRegistry;
import io.xdyna.animator.sampling.WindowSplit;
import io.xdyna.animator.service.TensorCodec;
import io.xdyna.contract.event.Events;
import io.xdyna.contract.storage.StorageLayout;
import io.xdyna.shared.kafka.EventPublisher;
import io.xdyna.shared.storage.ObjectStore;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.IntFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The coordinator's side of window-parallel sampling for one job run. Per step, when other animators are
 * idle, it writes the first batches' inputs to the bucket and offers them as {@link WindowTask}s; the
 * sampling loop computes the rest itself, then takes over offered batches nobody claimed (after
 * {@code claimWait}) or whose helper stopped renewing its claim (after {@code claimTtl}: the helper died),
 * and reads the helpers' predictions. Everything lives under the run's prefix
 * ({@link StorageLayout#splitStep}), so a later run of the job (after this coordinator dies) never reads a
 * helper's late result for this run.
 */
public final class SplitCoordinator implements Splits.Session {
    private static final Logger LOG = LoggerFactory.getLogger(SplitCoordinator.class);
    /** How often a waiting coordinator lists its step's objects. */
    static final long REFRESH_MS = 50;

    private final ObjectStore store;
    private final EventPublisher publisher;
    private final String topic;
    private final IdleAnimators idle;
    private final SplitPolicy policy;
    private final long claimWaitMs;
    private final long claimTtlMs;
    private final String owner;
    private final String run;
    private final WindowTask template;
    private final SplitMetrics metrics;

    /**
     * @param template the job's task fields; step, batch, windows and time are set per task
     */
    SplitCoordinator(ObjectStore store, EventPublisher publisher, String topic, IdleAnimators idle, SplitPolicy policy,
            long claimWaitMs, long claimTtlMs, String owner, WindowTask template, MeterRegistry metrics) {
        this.store = store;
        this.publisher = publisher;
        this.topic = topic;
        this.idle = idle;
        this.policy = policy;
        this.claimWaitMs = claimWaitMs;
        this.claimTtlMs = claimTtlMs;
        this.owner = owner;
        this.run = template.run();
        this.template = template;
        this.metrics = new SplitMetrics(metrics);
    }

    @Override
    public Step begin(int stepIndex, int steps, int t, List<List<int[]>> batches, IntFunction<NDArray> halves) {
        if (batches.size() < 2 || policy.off()) {
            return Step.LOCAL;
        }
        int helpers = policy.helpers(idle.others());
        if (helpers == 0) {
            return Step.LOCAL;
        }
        // the share a coordinator and its helpers each compute if all are equally fast; the coordinator
        // takes back what helpers leave, so this only decides how many inputs are written
        int n = batches.size();
        int offered = Math.min(n - 1, (int) Math.ceil(n * (double) helpers / (helpers + 1)));
        long now = System.currentTimeMillis();
        Shape[] expected = new Shape[offered];
        try {
            offer(stepIndex, steps, t, batches, halves, offered, now, expected);
        } catch (RuntimeException e) {
            // offering is an optimisation: a broker or store hiccup costs the helpers' share, never the step
            LOG.warn("job {}: step {}: cannot offer window batches ({}); computing them all here", template.jobId(),
                    stepIndex + 1, e.toString());
            return Step.LOCAL;
        }
        metrics.offered(offered, helpers);
        LOG.debug("job {}: step {}: {} of {} window batches offered to up to {} helper(s)", template.jobId(),
                stepIndex + 1, offered, n, helpers);
        return new StepSplit(stepIndex, offered, now, expected);
    }

    /** Writes the inputs and sends the tasks; {@code expected} receives each batch's prediction shape. */
    private void offer(int stepIndex, int steps, int t, List<List<int[]>> batches, IntFunction<NDArray> halves,
            int offered, long now, Shape[] expected) {
        for (int b = 0; b < offered; b++) {
            byte[] input;
            NDArray h = halves.apply(b);
            try {
                long[] dims = h.getShape().getShape().clone();
                dims[0] *= 2; // both guidance halves
                expected[b] = new Shape(dims);
                input = TensorCodec.encode(h);
            } finally {
                h.close();
            }
            store.put(StorageLayout.splitInput(template.jobId(), run, stepIndex, b), input, "application/octet-stream");
            WindowTask task = new WindowTask(template.jobId(), template.tenant(), run, owner, stepIndex, steps, t, b,
                    batches.get(b), template.modelId(), template.dtype(), template.reuseControlNet(), template.job(),
                    now);
            publisher.sendRaw(topic, template.jobId(), Events.encode(task), Map.of());
            metrics.sent(input.length);
        }
        publisher.flush();
    }

    /**
     * Deletes what this run and any earlier one left in the bucket: this coordinator holds the job's lease,
     * so no other run is alive (a dead run's helper may have written a late result; a helper checks the
     * lease before writing, so nothing comes after its run's lease is gone).
     */
    @Override
    public void close() {
        try {
            store.deletePrefix(StorageLayout.splitPrefix(template.jobId()));
        } catch (RuntimeException e) {
            LOG.warn("job {}: cannot delete its split objects: {}", template.jobId(), e.toString());
        }
    }

    private final class StepSplit implements Step {
        private final int step;
        private final int offered;
        private final long offeredAt;
        private Set<String> keys = Set.of();
        private final Map<Integer, TaskClaim> claims = new HashMap<>();
        private final Set<Integer> mine = new HashSet<>();
        private long refreshedAt;
        private boolean degraded;
        private final long startedNanos = System.nanoTime();
        private long localNanos;

        private final Shape[] expected;
        /** Batches whose helper result could not be used: computed here. */
        private final Set<Integer> refused = new HashSet<>();

        StepSplit(int step, int offered, long offeredAt, Shape[] expected) {
            this.step = step;
            this.offered = offered;
            this.offeredAt = offeredAt;
            this.expected = expected;
        }

        @Override
        public boolean offered(int batch) {
            return batch < offered;
        }

        /**
         * One listing of the step's objects (and the claims without a result), at most every REFRESH_MS. When
         * the store fails, the step is degraded: no more helper results, every batch left is computed here.
         */
        private void refresh() {
            long now = System.currentTimeMillis();
            if (degraded || now - refreshedAt < REFRESH_MS) {
                return;
            }
            refreshedAt = now;
            try {
                list();
            } catch (RuntimeException e) {
                LOG.warn("job {}: step {}: cannot read the helpers' work ({}); computing the rest here",
                        template.jobId(), step + 1, e.toString());
                degraded = true;
            }
        }

        private void list() {
            keys = new HashSet<>(store.list(StorageLayout.splitStep(template.jobId(), run, step)));
            claims.clear();
            for (int b = 0; b < offered; b++) {
                if (!mine.contains(b) && !keys.contains(result(b)) && keys.contains(claim(b))) {
                    Optional<TaskClaim> c = TaskClaim.read(store, claim(b));
                    if (c.isPresent()) {
                        claims.put(b, c.get());
                    }
                }
            }
        }

        @Override
        public boolean takeOver(int batch) {
            if (batch >= offered || mine.contains(batch)) {
                return false;
            }
            refresh();
            if (degraded || refused.contains(batch)) {
                mine.add(batch);
                return true;
            }
            if (keys.contains(result(batch))) {
                return false;
            }
            long now = System.currentTimeMillis();
            TaskClaim c = claims.get(batch);
            boolean redo = c != null && !c.liveAt(now, claimTtlMs);
            if (c == null ? now - offeredAt < claimWaitMs : !redo) {
                return false;
            }
            mine.add(batch);
            try {
                TaskClaim.write(store, claim(batch), owner, now);
            } catch (RuntimeException e) {
                degraded = true; // computed here all the same; a helper may duplicate it, with the same bits
            }
            if (redo) {
                LOG.info("job {}: step {} batch {}: helper {} stopped renewing its claim; computing it here",
                        template.jobId(), step + 1, batch, c.owner());
                metrics.batch("redone");
            }
            return true;
        }

        @Override
        public NDArray result(int batch, NDManager manager) {
            refresh();
            if (degraded || mine.contains(batch) || refused.contains(batch) || !keys.contains(result(batch))) {
                return null;
            }
            byte[] bytes;
            try {
                bytes = store.get(result(batch));
            } catch (RuntimeException e) {
                LOG.warn("job {}: step {}: cannot read batch {}'s prediction ({}); computing the rest here",
                        template.jobId(), step + 1, batch, e.toString());
                degraded = true;
                return null;
            }
            metrics.received(bytes.length);
            NDArray pred;
            try {
                pred = TensorCodec.decode(bytes, manager);
            } catch (IllegalArgumentException e) {
                LOG.warn("job {}: step {}: batch {}'s prediction is unreadable ({}); computing it here",
                        template.jobId(), step + 1, batch, e.getMessage());
                refused.add(batch);
                return null;
            }
            if (!pred.getShape().equals(expected[batch])) {
                LOG.warn("job {}: step {}: batch {}'s prediction is {}, expected {}; computing it here",
                        template.jobId(), step + 1, batch, pred.getShape(), expected[batch]);
                pred.close();
                refused.add(batch);
                return null;
            }
            metrics.batch("helper");
            return pred;
        }

        @Override
        public void computedLocally(int batch, long nanos) {
            metrics.batch("coordinator");
            localNanos += nanos;
        }

        @Override
        public void close() {
            metrics.step(System.nanoTime() - startedNanos, localNanos);
            try {
                store.deletePrefix(StorageLayout.splitStep(template.jobId(), run, step));
            } catch (RuntimeException e) {
                LOG.debug("cannot delete step {} objects: {}", step, e.toString());
            }
        }

        private String result(int b) {
            return StorageLayout.splitResult(template.jobId(), run, step, b);
        }

        private String claim(int b) {
            return StorageLayout.splitClaim(template.jobId(), run, step, b);
        }
    }
}
