package io.xdyna.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.xdyna.gateway.auth.ApiKeys;
import io.xdyna.gateway.support.RunningGateway;
import io.xdyna.gateway.support.SharedDir;
import io.xdyna.gateway.support.TopicReader;
import io.xdyna.shared.config.CommonConfig;
import io.xdyna.shared.telemetry.Tracing;
import io.xdyna.shared.testing.TestEnvironments;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A job's trace starts at its upload: the QUEUED status and the request the gateway sends carry the
 * upload's trace context ({@code traceparent}), continuing the caller's trace when the request has one.
 * Real broker and S3 server.
 */
class GatewayTracingIT {
    static final String KEY = "key-tenant-a";
    static final Map<String, Path> UPLOAD = Map.of("reference", SharedDir.example("example_1_reference.jpg"),
            "driving", SharedDir.example("example_1_driving.mp4"));

    static CommonConfig common;
    static RunningGateway gw;

    @TempDir
    static Path tmp;

    @BeforeAll
    static void start() {
        common = TestEnvironments.newEnvironment("gateway-tracing");
        gw = RunningGateway.start(new GatewayConfig(common, "127.0.0.1", 0, ApiKeys.parse("XDYNA_API_KEYS", "a:" + KEY),
                8L * 1024 * 1024, tmp.resolve("uploads"), Duration.ofMinutes(5)));
    }

    @AfterAll
    static void stop() {
        if (gw != null) {
            gw.close();
        }
    }

    @Test
    @DisplayName("an upload with a traceparent header: its QUEUED status and request continue the caller's trace")
    void uploadContinuesTheCallersTrace() {
        String callerTrace = "0af7651916cd43dd8448eb211c80319c";
        String callerSpan = "b7ad6b7169203331";
        HttpResponse<String> r = gw.submit(KEY, UPLOAD, Map.of(),
                Map.of(Tracing.TRACEPARENT, "00-" + callerTrace + "-" + callerSpan + "-01"));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        String id = RunningGateway.json(r).get("id").asText();

        List<String[]> sent = traceparents(id);
        assertThat(sent).hasSize(2); // QUEUED, then the request
        assertThat(sent).allSatisfy(t -> {
            assertThat(t[0]).isEqualTo(callerTrace);
            assertThat(t[1]).as("the gateway's own span").isNotEqualTo(callerSpan);
        });
    }

    @Test
    @DisplayName("an upload without trace context starts one trace, shared by its QUEUED status and request")
    void uploadStartsATrace() {
        HttpResponse<String> r = gw.submit(KEY, UPLOAD, null);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        String id = RunningGateway.json(r).get("id").asText();

        List<String[]> sent = traceparents(id);
        assertThat(sent).hasSize(2);
        assertThat(sent.get(0)[0]).matches("[0-9a-f]{32}").isNotEqualTo("0".repeat(32));
        assertThat(sent.get(1)[0]).isEqualTo(sent.get(0)[0]);
    }

    /** Trace and span id of each record of a job on the status and request topics (status first). */
    static List<String[]> traceparents(String id) {
        List<ConsumerRecord<String, byte[]>> records = new ArrayList<>(
                TopicReader.keyed(common.kafkaBootstrap(), common.topics().status(), id));
        records.addAll(TopicReader.keyed(common.kafkaBootstrap(), common.topics().requests(), id));
        return records.stream().map(rec -> {
            Header h = rec.headers().lastHeader(Tracing.TRACEPARENT);
            assertThat(h).as("traceparent on %s", rec.topic()).isNotNull();
            String[] parts = new String(h.value(), StandardCharsets.UTF_8).split("-");
            return new String[] {parts[1], parts[2]};
        }).toList();
    }

}
