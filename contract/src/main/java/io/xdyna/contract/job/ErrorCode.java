package io.xdyna.contract.job;

/**
 * Machine-readable failure causes, shown on a job's status and in HTTP error bodies.
 * Each stage picks the most specific one; the human message says what to do about it.
 */
public enum ErrorCode {
    /** The request record or HTTP body is malformed (not JSON, missing id, wrong schema version). */
    INVALID_REQUEST,
    /** A parameter is out of range or unknown. */
    INVALID_PARAMS,
    /** An input object named by the request does not exist in the bucket. */
    INPUT_MISSING,
    /**
     * An input key named by a request on Kafka lies outside what its tenant may read: neither under the
     * tenant's upload prefix ({@code uploads/{tenant}/}) nor under an operator-configured shared prefix
     * nor among the job's own gateway-uploaded inputs; or it is not a plain key ({@code ..}, empty segments).
     * Nothing was read.
     */
    INPUT_FORBIDDEN,
    /**
     * A request on Kafka names a job id that belongs to another tenant. The record is parked on the
     * dead-letter topic and no status is published (the id is not the requester's to change).
     */
    JOB_ID_TAKEN,
    /** The reference is not a decodable image (decided by content, not by name). */
    NOT_AN_IMAGE,
    /** The driving or pose input is not a video FFmpeg can open. */
    NOT_A_VIDEO,
    /** The video opened but could not be decoded to the end (truncated, corrupt). */
    VIDEO_UNREADABLE,
    /** The video has no video stream or no frames at the requested stride. */
    NO_FRAMES,
    /** Image or video dimensions are absurd (zero, huge, or inconsistent between frames). */
    BAD_DIMENSIONS,
    /** No person was found in the reference image or in the driving video. */
    NO_PERSON,
    /** The model bundle is missing, so this stage cannot run. */
    MODEL_MISSING,
    /** The model bundle is present but corrupt or mismatched. */
    MODEL_INVALID,
    /** The job cannot fit in the device's memory. */
    OUT_OF_MEMORY,
    /** A network forward pass failed. */
    INFERENCE_FAILED,
    /** Generated frames are missing, unreadable or inconsistent. */
    FRAMES_MISSING,
    /** Video encoding failed. */
    ENCODE_FAILED,
    /** Object storage could not be reached within the retry budget. */
    STORAGE_UNAVAILABLE,
    /** The job was delivered too many times without finishing. */
    DELIVERY_LIMIT,
    /** The job exceeded a stage's time limit. */
    TIMEOUT,
    /**
     * A stage started the job as many times as its retry budget allows ({@code XDYNA_RETRY_BUDGET})
     * without finishing it: transient failures or crashes each time. The message gives the last cause
     * when one was recorded.
     */
    RETRY_BUDGET_EXHAUSTED,
    /**
     * The process running the job stopped renewing its lease (it died, hung or lost the store); the job
     * was requeued. Seen as the last cause of RETRY_BUDGET_EXHAUSTED when every attempt died this way.
     */
    WORKER_LOST,
    /**
     * The job's status did not move for longer than its stage could take (the stage's deadline plus
     * the queue allowance): the gateway gave up waiting for it.
     */
    STALLED,
    /** The job was cancelled by its owner. */
    CANCELLED,
    /** An unexpected error: a bug. The message carries the exception. */
    INTERNAL
}
