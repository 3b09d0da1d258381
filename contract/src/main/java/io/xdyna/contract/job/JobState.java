package io.xdyna.contract.job;

/** Lifecycle of a job. The last three are terminal: once reached, later updates are ignored. */
public enum JobState {
    QUEUED, EXTRACTING, ANIMATING, ENCODING, SUCCEEDED, FAILED, CANCELLED;

    public boolean terminal() {
        return this == SUCCEEDED || this == FAILED || this == CANCELLED;
    }
}
