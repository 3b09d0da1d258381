package io.xdyna.contract.event;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.xdyna.contract.job.ErrorCode;
import io.xdyna.contract.job.JobFailure;
import io.xdyna.contract.job.JobParams;
import io.xdyna.contract.job.JobState;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EventsTest {

    private static byte[] json(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static ErrorCode codeOf(Runnable r) {
        try {
            r.run();
        } catch (JobFailure f) {
            return f.code();
        }
        throw new AssertionError("expected a JobFailure");
    }

    @Test
    void requestRoundTripKeepsEveryFieldAndFillsDefaults() {
        JobRequest r = new JobRequest(null, "job1", "acme", "2026-01-01T00:00:00Z",
                new JobInputs("in/ref.jpg", "in/drive.mp4", null),
                new JobParams(256, 512, 16, 1, null, 10, 5.0, 7L, "a dancer", "", false, null));
        JobRequest back = Events.decode(Events.encode(r), JobRequest.class);
        assertThat(back).isEqualTo(r);
        assertThat(back.v()).isEqualTo(Events.SCHEMA_VERSION);
        assertThat(back.params().alignPose()).isTrue();
        assertThat(back.params().faceControl()).isFalse();
    }

    @Test
    void minimalExternalRequestGetsXDynaDefaults() {
        JobRequest r = Events.decode(json("""
                {"id":"ext-1","inputs":{"reference":"u/r.png","driving":"u/d.mp4"}}"""), JobRequest.class);
        assertThat(r.tenant()).isEqualTo("default");
        assertThat(r.params()).isEqualTo(JobParams.defaults());
        assertThat(r.params().width()).isEqualTo(512);
        assertThat(r.params().height()).isEqualTo(896);
        assertThat(r.params().length()).isEqualTo(192);
        assertThat(r.params().steps()).isEqualTo(25);
        assertThat(r.params().cfg()).isEqualTo(7.5);
        assertThat(r.params().seed()).isEqualTo(40L);
    }

    @Test
    void rejectsMalformedRecordsWithSpecificCodes() {
        assertThat(codeOf(() -> Events.decode(json("not json"), JobRequest.class)))
                .isEqualTo(ErrorCode.INVALID_REQUEST);
        assertThat(codeOf(() -> Events.decode(new byte[0], JobRequest.class))).isEqualTo(ErrorCode.INVALID_REQUEST);
        assertThat(codeOf(() -> Events.decode(json("{\"inputs\":{\"reference\":\"a\",\"driving\":\"b\"}}"),
                JobRequest.class))).isEqualTo(ErrorCode.INVALID_REQUEST);
        assertThat(codeOf(() -> Events.decode(json("{\"id\":\"../etc\",\"inputs\":{\"reference\":\"a\",\"driving\":\"b\"}}"),
                JobRequest.class))).isEqualTo(ErrorCode.INVALID_REQUEST);
        assertThat(codeOf(() -> Events.decode(json("{\"id\":\"x\",\"inputs\":{\"reference\":\"a\"}}"),
                JobRequest.class))).isEqualTo(ErrorCode.INVALID_REQUEST);
        assertThat(codeOf(() -> Events.decode(json("{\"v\":2,\"id\":\"x\",\"inputs\":{\"reference\":\"a\",\"driving\":\"b\"}}"),
                JobRequest.class))).isEqualTo(ErrorCode.INVALID_REQUEST);
    }

    @Test
    void rejectsBadAndUnknownParamsNamingThem() {
        assertThatThrownBy(() -> Events.decode(json("""
                {"id":"x","inputs":{"reference":"a","driving":"b"},"params":{"width":100,"steps":0}}"""),
                JobRequest.class))
                .isInstanceOf(JobFailure.class)
                .hasMessageContaining("width must be a multiple of 8")
                .hasMessageContaining("steps must be between 1");
        assertThatThrownBy(() -> Events.decode(json("""
                {"id":"x","inputs":{"reference":"a","driving":"b"},"params":{"widht":512}}"""), JobRequest.class))
                .isInstanceOf(JobFailure.class)
                .hasMessageContaining("widht")
                .satisfies(e -> assertThat(((JobFailure) e).code()).isEqualTo(ErrorCode.INVALID_PARAMS));
    }

    @Test
    void idOfFindsTheJobOfABrokenRecordWhenItCan() {
        assertThat(Events.idOf(json("{\"id\":\"job-7\",\"params\":{\"width\":3}}"), null)).isEqualTo("job-7");
        assertThat(Events.idOf(json("garbage"), "key-9")).isEqualTo("key-9");
        assertThat(Events.idOf(json("garbage"), null)).isNull();
        assertThat(Events.idOf(json("{\"id\":\"bad id!\"}"), "bad key!")).isNull();
    }

    @Test
    void statusClampsProgressAndCarriesTheError() {
        JobStatus s = JobStatus.failed("j", "t", ErrorCode.NO_PERSON, "no person in the reference");
        JobStatus back = Events.decode(Events.encode(s), JobStatus.class);
        assertThat(back.state()).isEqualTo(JobState.FAILED);
        assertThat(back.error().code()).isEqualTo(ErrorCode.NO_PERSON);
        assertThat(JobStatus.of("j", "t", JobState.ANIMATING, 1.7, "x").progress()).isEqualTo(1.0);
        assertThat(back.withOutputs(Map.of("result", "k")).outputs()).containsEntry("result", "k");
    }
}
