package io.xdyna.shared.stage;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.xdyna.contract.event.ConditionsReady;
import io.xdyna.contract.event.Events;
import io.xdyna.contract.event.FramesReady;
import io.xdyna.contract.event.JobEvent;
import io.xdyna.contract.event.JobRequest;
import io.xdyna.contract.job.ErrorCode;
import io.xdyna.contract.job.JobFailure;
import io.xdyna.contract.job.JobParams;
import io.xdyna.shared.kafka.EventPublisher;
import io.xdyna.shared.retry.Backoff;
import io.xdyna.shared.storage.ObjectStore;
import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Turns one record into one finished job attempt, whatever the transport (consumer group or share
 * group): decode and validate, run the handler with in-process retries for transient failures,
 * and on a permanent failure publish FAILED and park the record on the dead-letter topic. Optional
 * limits: a deadline per attempt ({@link #withTimeout}) and a retry budget per job that survives
 * crashes ({@link #withRetryBudget}).
 */
public final class JobProcessor<E extends JobEvent> {
    private static final Logger LOG = LoggerFactory.getLogger(JobProcessor.class);

    /** What became of a record. */
    public enum Outcome {
        /** The handler finished the job: acknowledge the record. */
        SUCCEEDED,
        /** Over without results (failed and reported, refused, or cancelled): acknowledge the record. */
        FAILED,
        /** Not finished (shutting down, or transient failure out of local retries): deliver again. */
        RETRY;

        /** Whether the record is done with (acknowledge or commit it). */
        public boolean done() {
            return this != RETRY;
        }
    }

    private final Stage stage;
    private final Class<E> type;
    private final StageHandler<E> handler;
    private final StatusReporter status;
    private final EventPublisher publisher;
    private final DeadLetters deadLetters;
    /**
     * Between in-process attempts of one job. The loop sleeps itself rather than hand the handler to
     * a retry executor: each attempt is also counted in the ledger, bounded by a deadline and may be
     * stopped by a shutdown or a cancellation, and its outcome decides the record's fate.
     */
    static final Backoff BACKOFF = Backoff.exponential(Duration.ofMillis(500), Duration.ofSeconds(30));
    private final int maxAttempts;
    private final MeterRegistry metrics;
    private volatile Predicate<String> cancelled = id -> false;
    private volatile Consumer<E> admission = e -> { };
    private volatile Duration timeout = Duration.ZERO;
    private volatile WorkBudget work;
    private volatile AttemptLedger ledger;
    private volatile int retryBudget;

    public JobProcessor(Stage stage, Class<E> type, StageHandler<E> handler, StatusReporter status,
            EventPublisher publisher, DeadLetters deadLetters, int maxAttempts,
            MeterRegistry metrics) {
        this.stage = stage;
        this.type = type;
        this.handler = handler;
        this.status = status;
        this.publisher = publisher;
        this.deadLetters = deadLetters;
        this.maxAttempts = maxAttempts;
        this.metrics = metrics;
    }

    /**
     * Lets the processor see cancellations (usually {@code JobStatusLog::cancelled}): a cancelled job is
     * skipped when it arrives, and a handler that stops because of it is not reported as a failure.
     */
    public JobProcessor<E> withCancellation(Predicate<String> isCancelled) {
        this.cancelled = isCancelled;
        return this;
    }

    /**
     * A check every record passes before any attempt (e.g. the pose extractor's {@code InputPolicy}): a
     * {@link JobFailure} it throws ends the job FAILED with its code and parks the record, without an
     * attempt or the handler running; for {@link ErrorCode#JOB_ID_TAKEN} no status is published (the job
     * id is another tenant's). Any other exception (the store is down) gives the record back to be
     * delivered again.
     */
    public JobProcessor<E> withAdmission(Consumer<E> check) {
        this.admission = check;
        return this;
    }

    /**
     * Gives every attempt a deadline ({@code XDYNA_STAGE_TIMEOUT}; zero = none). Past it the context
     * says {@link StageContext#stopping()}, so the handler stops at its next safe point; a handler that
     * does not is interrupted a little later. The job then ends FAILED with TIMEOUT and is not retried.
     */
    public JobProcessor<E> withTimeout(Duration limit) {
        this.timeout = limit;
        return this;
    }

    /**
     * Counts each job's attempts at this stage in the bucket ({@link AttemptLedger}), across
     * processes, crashes and redeliveries; once {@code budget} attempts were started (0 = unlimited)
     * the job ends FAILED with RETRY_BUDGET_EXHAUSTED instead of being tried again.
     */
    public JobProcessor<E> withRetryBudget(ObjectStore store, int budget) {
        this.ledger = budget > 0 ? new AttemptLedger(store, stage) : null;
        this.retryBudget = budget;
        return this;
    }

    /**
     * Raises each job's time limit to what its work needs ({@link WorkBudget#limit}, the fixed timeout
     * as the floor); at the pipeline's entrance (a JobRequest) refuses a job no stage could finish
     * within the budget's maximum: FAILED INVALID_PARAMS, as the gateway refuses it.
     */
    public JobProcessor<E> withWorkBudget(WorkBudget budget) {
        this.work = budget;
        return this;
    }

    /** {@link #withTimeout}, {@link #withRetryBudget} and {@link #withWorkBudget}, from the service's settings. */
    public JobProcessor<E> withLimits(StageLimits limits, ObjectStore store) {
        return withTimeout(limits.timeout()).withRetryBudget(store, limits.retryBudget()).withWorkBudget(limits.work());
    }

    /** The job's size as this stage sees it: its parameters and the frames it will generate. */
    private static JobParams paramsOf(JobEvent e) {
        if (e instanceof JobRequest r) {
            return r.params();
        } else if (e instanceof ConditionsReady c) {
            return c.params() != null ? c.params() : JobParams.defaults();
        } else if (e instanceof FramesReady f) {
            return f.params() != null ? f.params() : JobParams.defaults();
        }
        return null;
    }

    private static int framesOf(JobEvent e, JobParams p) {
        if (e instanceof ConditionsReady c) {
            return c.frameCount();
        } else if (e instanceof FramesReady f) {
            return f.frameCount();
        }
        return p.length(); // before decoding: at most `length` frames
    }

    /**
     * The entrance: every record passes these before any attempt, and a refusal ends the job at once
     * (FAILED with the refusal's code, record parked): the stage's own admission check, then the work
     * budget (a job whose work could never fit the stage's longest time limit).
     */
    private void admit(E event) {
        admission.accept(event);
        WorkBudget w = work;
        if (w != null && event instanceof JobRequest r) {
            w.refusal(r.params(), r.params().length()).ifPresent(reason -> {
                throw JobFailure.permanent(ErrorCode.INVALID_PARAMS, reason);
            });
        }
    }

        private Duration timeoutFor(E event) {
        JobParams p = paramsOf(event);
        WorkBudget w = work;
        return w == null || p == null ? timeout : w.limit(stage, p, framesOf(event, p), timeout);
    }

    /**
     * @param finalDelivery the transport will not deliver this record again (delivery limit reached):
     *     a transient failure is then reported as FAILED instead of RETRY
     */
    public Outcome process(String topic, int partition, long offset, String key, byte[] value, boolean finalDelivery,
            BooleanSupplier stopping) {
        E event;
        try {
            event = Events.decode(value, type);
        } catch (JobFailure f) {
            String id = Events.idOf(value, key);
            LOG.warn("rejecting record {}-{}@{} (job {}): {}", topic, partition, offset, id, f.getMessage());
            deadLetters.park(topic, partition, offset, key, value, f.code().name(), f.getMessage());
            if (id != null) {
                status.failed(id, Events.tenantOf(value), f.code(), f.getMessage());
            }
            count("rejected", f.code().name());
            return Outcome.FAILED;
        }
        MDC.put("jobId", event.id());
        MDC.put("stage", stage.service());
        if (cancelled.test(event.id())) {
            LOG.info("skipping job {}: it was cancelled", event.id());
            count("cancelled", "none");
            MDC.remove("jobId");
            MDC.remove("stage");
            return Outcome.FAILED;
        }
        try {
            admit(event);
        } catch (JobFailure f) {
            LOG.warn("refusing job {} from {}-{}@{}: {} {}", event.id(), topic, partition, offset, f.code(),
                    f.getMessage());
            deadLetters.park(topic, partition, offset, key, value, f.code().name(), f.getMessage());
            if (f.code() != ErrorCode.JOB_ID_TAKEN) {
                status.failed(event.id(), event.tenant(), f.code(), f.getMessage());
            }
            count("rejected", f.code().name());
            MDC.remove("jobId");
            MDC.remove("stage");
            return Outcome.FAILED;
        } catch (RuntimeException e) {
            LOG.warn("cannot check job {} now ({}); it will be delivered again", event.id(), e.toString());
            MDC.remove("jobId");
            MDC.remove("stage");
            return Outcome.RETRY;
        }
        Duration limit = timeoutFor(event);
        Timer.Sample sample = Timer.start(metrics);
        try {
            for (int attempt = 1; ; attempt++) {
                if (stopping.getAsBoolean()) {
                    return Outcome.RETRY;
                }
                AttemptLedger.Entry counted = null;
                AttemptDeadline deadline = AttemptDeadline.NONE;
                Watchdog watchdog = null;
                try {
                    counted = beginAttempt(event.id());
                    deadline = AttemptDeadline.startingNow(stage, limit);
                    watchdog = Watchdog.arm(deadline, hardStopGrace(limit));
                    handler.handle(event, new StageContext(stage, event.id(), event.tenant(), status, publisher,
                            attempt, stopping, () -> cancelled.test(event.id()), deadline));
                    if (Watchdog.disarm(watchdog)) {
                        Thread.interrupted(); // it fired as the handler returned: the job is done all the same
                    }
                    forgetAttempts(event.id(), counted);
                    count("succeeded", "none");
                    sample.stop(metrics.timer("xdyna.stage.duration", "stage", stage.service(), "outcome", "ok"));
                    return Outcome.SUCCEEDED;
                } catch (Throwable t) {
                    if (Watchdog.disarm(watchdog)) {
                        // our own interrupt, not a shutdown: clear it so the FAILED status can be sent
                        Thread.interrupted();
                    }
                    JobFailure f;
                    if (deadline.exceeded()) {
                        // whatever the handler threw on its way out, the cause is the time limit; not retried
                        f = JobFailure.permanent(ErrorCode.TIMEOUT, deadline.message(), t);
                    } else if (t instanceof InterruptedException || stopping.getAsBoolean()) {
                        if (t instanceof InterruptedException) {
                            Thread.currentThread().interrupt();
                        }
                        LOG.info("stopped mid-job ({}); the job will be delivered again", t.toString());
                        giveBack(event.id(), counted);
                        return Outcome.RETRY;
                    } else if (cancelled.test(event.id())) {
                        // the owner cancelled: CANCELLED is already the job's (sticky) status
                        LOG.info("job {} stopped after its cancellation ({})", event.id(), t.toString());
                        count("cancelled", "none");
                        return Outcome.FAILED;
                    } else {
                        f = Failures.classify(t);
                    }
                    if (f.retryable()) {
                        counted = recordFailure(event.id(), counted, f);
                        if (counted != null && retryBudget > 0 && counted.attempts() >= retryBudget) {
                            f = budgetExhausted(counted, f);
                        } else if (attempt < maxAttempts) {
                            long backoff = BACKOFF.delayBefore(attempt).toMillis();
                            LOG.warn("attempt {}/{} failed ({}): retrying in {} ms", attempt, maxAttempts,
                                    f.getMessage(), backoff);
                            Thread.sleep(backoff);
                            continue;
                        } else if (!finalDelivery) {
                            LOG.warn("giving the job back after {} attempts: {}", attempt, f.getMessage());
                            return Outcome.RETRY;
                        }
                    }
                    LOG.error("job failed: {} {}", f.code(), f.getMessage(), f.code() == ErrorCode.INTERNAL ? t : null);
                    status.failed(event.id(), event.tenant(), f.code(), f.getMessage());
                    deadLetters.park(topic, partition, offset, key, value, f.code().name(), f.getMessage());
                    count("failed", f.code().name());
                    sample.stop(metrics.timer("xdyna.stage.duration", "stage", stage.service(), "outcome", "failed"));
                    return Outcome.FAILED;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Outcome.RETRY;
        } finally {
            MDC.remove("jobId");
            MDC.remove("stage");
        }
    }

    /**
     * Counts an attempt in the ledger before any work, so that one which kills the process still
     * counts; refuses the attempt when the budget is used up (by crashes: the last failure, if any,
     * was recorded when it happened).
     */
    private AttemptLedger.Entry beginAttempt(String id) {
        if (ledger == null) {
            return null;
        }
        AttemptLedger.Entry before = ledger.read(id);
        if (retryBudget > 0 && before.attempts() >= retryBudget) {
            throw budgetExhausted(before, null);
        }
        return ledger.begin(id, before);
    }

    private JobFailure budgetExhausted(AttemptLedger.Entry e, JobFailure last) {
        String cause = last != null ? last.code() + ": " + last.getMessage()
                : e.lastError() != null ? e.lastCode() + ": " + e.lastError()
                : "no cause was recorded: the process probably died or was killed during each attempt";
        return JobFailure.permanent(ErrorCode.RETRY_BUDGET_EXHAUSTED, "the " + stage.service() + " stage gave up after "
                + e.attempts() + " attempts (XDYNA_RETRY_BUDGET=" + retryBudget + "); last failure: " + cause);
    }

    /** Keeps the cause in the ledger; a ledger that cannot be written must not hide the job's own failure. */
    private AttemptLedger.Entry recordFailure(String id, AttemptLedger.Entry counted, JobFailure f) {
        if (ledger == null || counted == null) {
            return counted;
        }
        try {
            return ledger.failed(id, counted, f);
        } catch (RuntimeException e) {
            LOG.warn("cannot record the failure in the attempt ledger: {}", e.toString());
            return counted;
        }
    }

    /**
     * After a success that needed retries: a redelivery of the finished job (its acknowledgement was lost)
     * must not find the budget spent and fail a job that worked. A first-try success costs nothing here.
     */
    private void forgetAttempts(String id, AttemptLedger.Entry counted) {
        if (ledger == null || counted == null || counted.attempts() <= 1) {
            return;
        }
        try {
            ledger.clear(id);
        } catch (RuntimeException e) {
            LOG.debug("cannot clear the attempt ledger", e);
        }
    }

    private void giveBack(String id, AttemptLedger.Entry counted) {
        if (ledger == null || counted == null) {
            return;
        }
        boolean wasInterrupted = Thread.interrupted(); // the store call must not be cut short by our own stop
        try {
            ledger.giveBack(id, counted);
        } catch (RuntimeException e) {
            LOG.debug("cannot give the attempt back to the ledger", e);
        } finally {
            if (wasInterrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** How long after the deadline a handler that never checks its context is interrupted. */
    static Duration hardStopGrace(Duration timeout) {
        Duration tenth = timeout.dividedBy(10);
        Duration min = Duration.ofSeconds(1);
        Duration max = Duration.ofMinutes(5);
        return tenth.compareTo(min) < 0 ? min : tenth.compareTo(max) > 0 ? max : tenth;
    }

    /**
     * Interrupts the job thread when an attempt outlives its deadline by the grace period: the backstop
     * for handlers blocked where they cannot check their context. Arming and disarming synchronise, so an
     * interrupt never lands after the attempt ended.
     */
    private static final class Watchdog {
        private static final ScheduledThreadPoolExecutor TIMER = timer();

        private final Thread worker = Thread.currentThread();
        private ScheduledFuture<?> task;
        private boolean over;
        private boolean fired;

        static Watchdog arm(AttemptDeadline deadline, Duration grace) {
            if (!deadline.limited()) {
                return null;
            }
            Watchdog w = new Watchdog();
            w.task = TIMER.schedule(w::fire, deadline.remaining().plus(grace).toNanos(),
                    TimeUnit.NANOSECONDS);
            return w;
        }

        private synchronized void fire() {
            if (!over) {
                fired = true;
                LOG.warn("the job outlived its time limit and does not stop: interrupting its thread");
                worker.interrupt();
            }
        }

        /** Ends the watch; true when it had interrupted the worker. */
        static boolean disarm(Watchdog w) {
            if (w == null) {
                return false;
            }
            synchronized (w) {
                w.over = true;
                w.task.cancel(false);
                return w.fired;
            }
        }

        private static ScheduledThreadPoolExecutor timer() {
            ScheduledThreadPoolExecutor t = new ScheduledThreadPoolExecutor(1,
                    r -> {
                        Thread th = new Thread(r, "xdyna-stage-watchdog");
                        th.setDaemon(true);
                        return th;
                    });
            t.setRemoveOnCancelPolicy(true);
            return t;
        }
    }

    private void count(String outcome, String code) {
        metrics.counter("xdyna.stage.jobs", "stage", stage.service(), "outcome", outcome, "code", code).increment();
    }
}
