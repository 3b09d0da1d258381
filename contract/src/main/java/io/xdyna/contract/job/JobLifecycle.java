package io.xdyna.contract.job;

import io.xdyna.contract.event.JobStatus;
import java.util.Collections;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/**
 * A job's lifecycle in one table: which state may follow which, and a factory for every status the
 * system publishes. Every module builds its statuses here, and every reader of the status topic
 * applies {@link #supersedes} — so "terminal states stick" and "QUEUED never moves a started job back"
 * are written once.
 *
 * <pre>
 *   QUEUED ──► EXTRACTING ──► ANIMATING ──► ENCODING ──► SUCCEEDED
 *     │            │              │             │
 *     └────────────┴──────┬───────┴─────────────┘
 *                         ▼
 *                 FAILED | CANCELLED        (terminal: nothing follows)
 * </pre>
 *
 * A stage state may also follow another stage state in either direction: statuses of different stages
 * are published by different services, and a redelivered record can run an earlier stage again; the
 * topic's order (one partition per job id) decides. Whichever terminal status reaches the topic first
 * wins: a CANCELLED racing a SUCCEEDED ends the job in the one the topic holds first, for every reader.
 */
public final class JobLifecycle {
    private static final Set<JobState> STAGES = EnumSet.of(JobState.EXTRACTING, JobState.ANIMATING,
            JobState.ENCODING);
    private static final Set<JobState> ENDS = EnumSet.of(JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED);
    private static final Map<JobState, Set<JobState>> NEXT = table();

    private JobLifecycle() {
    }

    private static Map<JobState, Set<JobState>> table() {
        Map<JobState, Set<JobState>> next = new EnumMap<>(JobState.class);
        // QUEUED is re-published only at submission (a gateway's retry of the same request)
        next.put(JobState.QUEUED, union(EnumSet.of(JobState.QUEUED), STAGES, ENDS));
        for (JobState stage : STAGES) {
            next.put(stage, union(STAGES, ENDS));
        }
        for (JobState end : ENDS) {
            next.put(end, EnumSet.noneOf(JobState.class));
        }
        next.replaceAll((k, v) -> Collections.unmodifiableSet(v));
        return Collections.unmodifiableMap(next);
    }

    @SafeVarargs
    private static Set<JobState> union(Set<JobState>... sets) {
        Set<JobState> all = EnumSet.noneOf(JobState.class);
        for (Set<JobState> s : sets) {
            all.addAll(s);
        }
        return all;
    }

    /** The states that may follow {@code from} (none after a terminal state). */
    public static Set<JobState> next(JobState from) {
        return NEXT.get(from);
    }

    public static boolean allows(JobState from, JobState to) {
        return NEXT.get(from).contains(to);
    }

    /**
     * Whether {@code next} replaces {@code prev} as the job's current status (the rule every reader of
     * the status topic applies): any status starts a job, and a later one replaces it when the table
     * allows the move.
     */
    public static boolean supersedes(JobStatus prev, JobStatus next) {
        return prev == null || allows(prev.state(), next.state());
    }

    /** The status a gateway publishes when it accepts a job (the first record of every job). */
    public static JobStatus queued(String id, String tenant, String message) {
        return JobStatus.of(id, tenant, JobState.QUEUED, 0, message);
    }

    /** A stage is working on the job: {@code progress} is the whole job's, in [0, 1]. */
    public static JobStatus running(String id, String tenant, JobState stage, double progress, String message) {
        if (!STAGES.contains(stage)) {
            throw new IllegalArgumentException(stage + " is not a stage's state");
        }
        return JobStatus.of(id, tenant, stage, progress, message);
    }

    /** The job's results are stored: {@code outputs} maps output names to object keys. */
    public static JobStatus succeeded(String id, String tenant, Map<String, String> outputs, String message) {
        return JobStatus.of(id, tenant, JobState.SUCCEEDED, 1.0, message).withOutputs(outputs);
    }

    /** The job failed for good, with a code for programs and a sentence for people. */
    public static JobStatus failed(String id, String tenant, ErrorCode code, String message) {
        return JobStatus.failed(id, tenant, code, message);
    }

    /** The owner cancelled the job; its progress so far is kept. */
    public static JobStatus cancelled(JobStatus current, String message) {
        return new JobStatus(null, current.id(), current.tenant(), JobState.CANCELLED, current.progress(), message,
                new JobStatus.Error(ErrorCode.CANCELLED, message), null, null, null);
    }
}
