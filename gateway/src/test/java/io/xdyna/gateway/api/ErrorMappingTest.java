package io.xdyna.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.VertxException;
import io.xdyna.contract.job.ErrorCode;
import io.xdyna.contract.job.JobFailure;
import io.xdyna.shared.kafka.KafkaUnavailableException;
import io.xdyna.shared.storage.StorageUnavailableException;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class ErrorMappingTest {
    private static ApiError map(Throwable failure, int failedStatus) {
        return ErrorMapping.toApiError(failure, failedStatus, "POST /v1/jobs");
    }

    @Test
    @DisplayName("a job failure found at the edge is the client's: 400 for request and params, 422 for unusable inputs")
    void jobFailures() {
        assertThat(map(JobFailure.permanent(ErrorCode.INVALID_PARAMS, "width"), -1).status()).isEqualTo(400);
        ApiError notImage = map(JobFailure.permanent(ErrorCode.NOT_AN_IMAGE, "'reference' is not an image"), -1);
        assertThat(notImage.status()).isEqualTo(422);
        assertThat(notImage.code()).isEqualTo("NOT_AN_IMAGE");
        assertThat(notImage.getMessage()).isEqualTo("'reference' is not an image");
        assertThat(ErrorMapping.status(ErrorCode.STORAGE_UNAVAILABLE)).isEqualTo(503);
        assertThat(ErrorMapping.status(ErrorCode.INTERNAL)).isEqualTo(500);
    }

    @Test
    @DisplayName("store or broker down is 503 UNAVAILABLE with Retry-After; an unknown exception is 500 INTERNAL")
    void infrastructure() {
        for (Throwable down : new Throwable[] {new StorageUnavailableException("s3", null),
                new KafkaUnavailableException("kafka", null)}) {
            ApiError e = map(down, -1);
            assertThat(e.status()).isEqualTo(503);
            assertThat(e.code()).isEqualTo("UNAVAILABLE");
            assertThat(e.retryAfterSeconds()).isEqualTo(ErrorMapping.UNAVAILABLE_RETRY_AFTER);
        }
        ApiError bug = map(new IllegalStateException("bug"), -1);
        assertThat(bug.status()).isEqualTo(500);
        assertThat(bug.code()).isEqualTo("INTERNAL");
        assertThat(bug.getMessage()).doesNotContain("bug");
    }

    @Test
    @DisplayName("the multipart decoder's exceptions (even a bare NullPointerException) and an aborted upload are 400")
    void malformedMultipart() {
        NullPointerException fromDecoder = new NullPointerException();
        fromDecoder.setStackTrace(new StackTraceElement[] {new StackTraceElement(
                "io.netty.handler.codec.http.multipart.HttpPostMultipartRequestDecoder", "decode", null, 1)});
        assertThat(map(new RuntimeException(fromDecoder), -1).code()).isEqualTo("INVALID_REQUEST");
        assertThat(map(new IllegalStateException("Streaming aborted"), -1).status()).isEqualTo(400);
        // the same abort, when the part's file was closed before the body pipe gave up (MultipartFuzzIT, fresh clone)
        assertThat(map(new VertxException("Pipe closed", true), -1).status()).isEqualTo(400);
        assertThat(map(new NullPointerException(), -1).status()).isEqualTo(500);
    }

    @Test
    @DisplayName("a bare failed status: 413 is PAYLOAD_TOO_LARGE, 400 INVALID_REQUEST, another keeps its number")
    void bareStatus() {
        assertThat(map(null, 413).code()).isEqualTo("PAYLOAD_TOO_LARGE");
        assertThat(map(null, 400).code()).isEqualTo("INVALID_REQUEST");
        assertThat(map(null, 408).code()).isEqualTo("HTTP_408");
        assertThat(map(null, -1).status()).isEqualTo(500);
        ApiError own = new ApiError(ErrorMapping.Code.STILL_RUNNING, "cancel it first");
        assertThat(map(own, 500)).isSameAs(own);
    }
}
