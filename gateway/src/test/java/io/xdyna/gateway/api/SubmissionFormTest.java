package io.xdyna.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.xdyna.contract.job.JobParams;
import io.xdyna.gateway.upload.MultipartUpload;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class SubmissionFormTest {
    @Test
    @DisplayName("absent params are X-Dyna's defaults; given ones override only themselves")
    void params() {
        assertThat(SubmissionForm.parseParams(null)).isEqualTo(JobParams.defaults());
        assertThat(SubmissionForm.parseParams("  ")).isEqualTo(JobParams.defaults());
        JobParams p = SubmissionForm.parseParams("{\"width\":576,\"prompt\":\"a dancer\",\"alignPose\":false}");
        assertThat(p.width()).isEqualTo(576);
        assertThat(p.height()).isEqualTo(896);
        assertThat(p.prompt()).isEqualTo("a dancer");
        assertThat(p.alignPose()).isFalse();
        assertThat(p.faceControl()).isTrue();
    }

    @Test
    @DisplayName("bad params are INVALID_PARAMS naming the parameter")
    void badParams() {
        assertThatThrownBy(() -> SubmissionForm.parseParams("{\"width\":513}")).isInstanceOf(ApiError.class)
                .hasMessageContaining("width").satisfies(e -> assertThat(((ApiError) e).code())
                        .isEqualTo("INVALID_PARAMS"));
        assertThatThrownBy(() -> SubmissionForm.parseParams("{\"stepz\":3}")).hasMessageContaining("stepz");
        assertThatThrownBy(() -> SubmissionForm.parseParams("{\"steps\":\"many\"}")).hasMessageContaining("steps");
        assertThatThrownBy(() -> SubmissionForm.parseParams("null")).isInstanceOf(ApiError.class);
        assertThatThrownBy(() -> SubmissionForm.parseParams("{")).isInstanceOf(ApiError.class);
    }

    @Test
    @DisplayName("callback URLs must be absolute http(s) without credentials")
    void callbackUrls() {
        assertThat(SubmissionForm.callbackUrl(null)).isNull();
        assertThat(SubmissionForm.callbackUrl(" https://hooks.example.com/x?y=1 ")).isEqualTo("https://hooks.example.com/x?y=1");
        for (String bad : new String[] {"ftp://a/b", "/relative", "http://user:pw@a/b", "not a url", "http:///x"}) {
            assertThatThrownBy(() -> SubmissionForm.callbackUrl(bad)).as(bad).isInstanceOf(ApiError.class);
        }
    }

    @Test
    @DisplayName("a multipart Content-Type needs a boundary of 1 to 70 characters")
    void multipartBoundaries() {
        assertThat(MultipartUpload.hasValidBoundary("multipart/form-data; boundary=abc")).isTrue();
        assertThat(MultipartUpload.hasValidBoundary("multipart/form-data; charset=utf-8; BOUNDARY=\"a b\"")).isTrue();
        assertThat(MultipartUpload.hasValidBoundary("multipart/form-data; boundary=")).isFalse();
        assertThat(MultipartUpload.hasValidBoundary("multipart/form-data; boundary=\"\"")).isFalse();
        assertThat(MultipartUpload.hasValidBoundary("multipart/form-data")).isFalse();
        assertThat(MultipartUpload.hasValidBoundary("multipart/form-data; boundary=" + "x".repeat(71))).isFalse();
    }
}
