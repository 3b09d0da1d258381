package io.xdyna.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.xdyna.gateway.support.RunningGateway;
import io.xdyna.gateway.support.SharedDir;
import io.xdyna.gateway.support.TopicReader;
import io.xdyna.shared.config.CommonConfig;
import io.xdyna.shared.kafka.KafkaSetup;
import io.xdyna.shared.testing.TestEnvironments;
import io.xdyna.testkit.JavaProcess;
import io.xdyna.testkit.KafkaBroker;
import io.xdyna.testkit.Ports;
import io.xdyna.testkit.TestCertificates;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A gateway against a broker whose listener speaks SASL_SSL (PLAIN): configured only through the
 * standard {@code KAFKA_*} client variables, it works with the right credentials and trust store, and
 * is refused without credentials or with a wrong password (it never becomes ready).
 */
class SecuredKafkaIT {
    static final String KEY = "key-of-secured";

    @TempDir
    Path tmp;

    private Process gateway(CommonConfig common, String secureBootstrap, int port, Map<String, String> kafkaEnv,
            String name) {
        Map<String, String> env = new HashMap<>(TestEnvironments.env(common));
        env.put("KAFKA_BOOTSTRAP_SERVERS", secureBootstrap);
        env.putAll(kafkaEnv);
        env.putAll(Map.of("XDYNA_API_KEYS", "sec:" + KEY, "XDYNA_HTTP_HOST", "127.0.0.1",
                "XDYNA_HTTP_PORT", Integer.toString(port), "XDYNA_UPLOAD_DIR", tmp.resolve("spool-" + name).toString(),
                "XDYNA_RETENTION", "off"));
        return JavaProcess.of(GatewayMain.class).heap("256m").logFile(tmp.resolve(name + ".log")).dieWithParent(true)
                .env(env).start();
    }

    private static int ready(int port) {
        try {
            return RunningGateway.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health/ready"))
                    .timeout(Duration.ofSeconds(5)).build()).statusCode();
        } catch (RuntimeException e) {
            return -1;
        }
    }

    @Test
    @DisplayName("over SASL_SSL: no credentials or a wrong password is refused, the right ones work end to end")
    void onlyAuthenticatedClientsGetIn() throws Exception {
        CommonConfig common = TestEnvironments.newEnvironment("gateway-secured");
        TestCertificates certs = TestCertificates.create(tmp.resolve("certs"));
        int plain = Ports.freePair(); // the controller listens on plain + 1
        int secure = Ports.free();
        try (KafkaBroker broker = KafkaBroker.start(null, plain, certs.saslSslListener(plain, plain + 1, secure,
                Map.of("xdyna", "right-password")))) {
            // topics are made by the operator (here over the broker's internal plaintext listener)
            KafkaSetup.ensureTopics(broker.bootstrap(), common.topics(), 3, (short) 1);
            String secureBootstrap = "127.0.0.1:" + secure;

            int noCredsPort = Ports.free();
            int wrongPort = Ports.free();
            Process noCreds = gateway(common, secureBootstrap, noCredsPort, Map.of(), "no-credentials");
            Process wrong = gateway(common, secureBootstrap, wrongPort, certs.saslSslClientEnv("xdyna",
                    "wrong-password"), "wrong-password");
            try {
                // both serve HTTP but never get to read the status topic
                await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500))
                        .until(() -> ready(noCredsPort) == 503 && ready(wrongPort) == 503);
                await().during(Duration.ofSeconds(10)).atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofSeconds(1))
                        .until(() -> ready(noCredsPort) == 503 && ready(wrongPort) == 503);
                await().atMost(Duration.ofSeconds(30)).until(() -> Files.readString(tmp.resolve("wrong-password.log"),
                        StandardCharsets.UTF_8).contains("Authentication failed"));
            } finally {
                JavaProcess.kill(noCreds);
                JavaProcess.kill(wrong);
            }

            int okPort = Ports.free();
            Process ok = gateway(common, secureBootstrap, okPort, certs.saslSslClientEnv("xdyna", "right-password"),
                    "right-password");
            try {
                await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500))
                        .until(() -> ready(okPort) == 200);
                RunningGateway.Multipart m = new RunningGateway.Multipart()
                        .file("reference", SharedDir.example("example_1_reference.jpg"))
                        .file("driving", SharedDir.example("example_1_driving.mp4"))
                        .field("params", "{\"length\":4}");
                HttpResponse<String> r = RunningGateway.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                        + okPort + "/v1/jobs")).timeout(Duration.ofSeconds(60)).header("Authorization", "Bearer " + KEY)
                        .header("Content-Type", m.contentType())
                        .POST(HttpRequest.BodyPublishers.ofByteArray(m.bytes())).build());
                assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
                String id = RunningGateway.json(r).get("id").asText();
                // the request and the QUEUED status went through the secured listener
                assertThat(TopicReader.keyed(broker.bootstrap(), common.topics().requests(), id)).hasSize(1);
                assertThat(TopicReader.keyed(broker.bootstrap(), common.topics().status(), id)).isNotEmpty();
                assertThat(Files.readString(tmp.resolve("right-password.log"), StandardCharsets.UTF_8))
                        .contains("Kafka client properties from the environment")
                        .doesNotContain("right-password");
            } finally {
                JavaProcess.stop(ok, Duration.ofSeconds(20));
            }
        }
    }
}
