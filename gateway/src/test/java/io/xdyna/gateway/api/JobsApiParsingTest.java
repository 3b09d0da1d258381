package io.xdyna.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.xdyna.contract.job.JobParams;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class JobsApiParsingTest {
    @Test
    @DisplayName("absent params are X-Dyna's defaults; given ones override only themselves")
    void params() {
        assertThat(JobsApi.parseParams(null)).isEqualTo(JobParams.defaults());
        assertThat(JobsApi.parseParams("  ")).isEqualTo(JobParams.defaults());
        JobParams p = JobsApi.parseParams("{\"width\":576,\"prompt\":\"a dancer\",\"alignPose\":false}");
        assertThat(p.width()).isEqualTo(576);
        assertThat(p.height()).isEqualTo(896);
        assertThat(p.prompt()).isEqualTo("a dancer");
        assertThat(p.alignPose()).isFalse();
        assertThat(p.faceControl()).isTrue();
    }

    @Test
    @DisplayName("bad params are INVALID_PARAMS naming the parameter")
    void badParams() {
        assertThatThrownBy(() -> JobsApi.parseParams("{\"width\":513}")).isInstanceOf(ApiError.class)
                .hasMessageContaining("width").satisfies(e -> assertThat(((ApiError) e).code())
                        .isEqualTo("INVALID_PARAMS"));
        assertThatThrownBy(() -> JobsApi.parseParams("{\"stepz\":3}")).hasMessageContaining("stepz");
        assertThatThrownBy(() -> JobsApi.parseParams("{\"steps\":\"many\"}")).hasMessageContaining("steps");
        assertThatThrownBy(() -> JobsApi.parseParams("null")).isInstanceOf(ApiError.class);
        assertThatThrownBy(() -> JobsApi.parseParams("{")).isInstanceOf(ApiError.class);
    }

    @Test
    @DisplayName("callback URLs must be absolute http(s) without credentials")
    void callbackUrls() {
        assertThat(JobsApi.callbackUrl(null)).isNull();
        assertThat(JobsApi.callbackUrl(" https://hooks.example.com/x?y=1 ")).isEqualTo("https://hooks.example.com/x?y=1");
        for (String bad : new String[] {"ftp://a/b", "/relative", "http://user:pw@a/b", "not a url", "http:///x"}) {
            assertThatThrownBy(() -> JobsApi.callbackUrl(bad)).as(bad).isInstanceOf(ApiError.class);
        }
    }

    @Test
    @DisplayName("a multipart Content-Type needs a boundary of 1 to 70 characters")
    void multipartBoundaries() {
        assertThat(JobsApi.hasValidBoundary("multipart/form-data; boundary=abc")).isTrue();
        assertThat(JobsApi.hasValidBoundary("multipart/form-data; charset=utf-8; BOUNDARY=\"a b\"")).isTrue();
        assertThat(JobsApi.hasValidBoundary("multipart/form-data; boundary=")).isFalse();
        assertThat(JobsApi.hasValidBoundary("multipart/form-data; boundary=\"\"")).isFalse();
        assertThat(JobsApi.hasValidBoundary("multipart/form-data")).isFalse();
        assertThat(JobsApi.hasValidBoundary("multipart/form-data; boundary=" + "x".repeat(71))).isFalse();
    }
}
