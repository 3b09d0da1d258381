package io.xdyna.shared.stage;

import io.xdyna.shared.config.ConfigException;
import io.xdyna.shared.config.Env;
import java.time.Duration;

/**
 * How long one attempt of a stage may take, and how many attempts a job gets at a stage.
 *
 * @param timeout {@code XDYNA_STAGE_TIMEOUT} (seconds or ISO-8601, default per service): one attempt
 *     that runs longer is stopped and the job FAILED with TIMEOUT; {@link Duration#ZERO} = no limit
 * @param retryBudget {@code XDYNA_RETRY_BUDGET} (default {@value #DEFAULT_RETRY_BUDGET}): attempts a
 *     job gets at this stage across all processes and redeliveries, counted in the bucket; then FAILED
 *     with RETRY_BUDGET_EXHAUSTED; 0 = unlimited
 * @param work {@link WorkBudget#from}: the timeout is a floor, raised for a job with more work
 */
public record StageLimits(Duration timeout, int retryBudget, WorkBudget work) {
    public static final int DEFAULT_RETRY_BUDGET = 5;
    /** No time limit, no budget (tests, tools). */
    public static final StageLimits NONE = new StageLimits(Duration.ZERO, 0, WorkBudget.DEFAULT);

    public StageLimits(Duration timeout, int retryBudget) {
        this(timeout, retryBudget, WorkBudget.DEFAULT);
    }

    public StageLimits {
        if (timeout == null || timeout.isNegative()) {
            throw new ConfigException("a stage timeout must be zero (none) or positive, got " + timeout);
        }
        if (work == null) {
            work = WorkBudget.DEFAULT;
        }
        if (retryBudget < 0) {
            throw new ConfigException("a retry budget must be zero (unlimited) or positive, got " + retryBudget);
        }
    }

    public static StageLimits from(Env env, Duration defaultTimeout) {
        return new StageLimits(env.duration("XDYNA_STAGE_TIMEOUT", defaultTimeout),
                env.integer("XDYNA_RETRY_BUDGET", DEFAULT_RETRY_BUDGET, 0, 1000), WorkBudget.from(env));
    }
}
