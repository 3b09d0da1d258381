package io.xdyna.contract;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The contract module is what another system takes to produce a {@code JobRequest}: its class path
 * (this test runs on exactly that, plus JUnit) holds Jackson and nothing of the services' runtime.
 */
class ContractDependenciesTest {
    @Test
    void theContractDragsInNoServiceRuntime() {
        List<String> runtime = List.of("io.vertx.core.Vertx", "org.apache.kafka.clients.producer.KafkaProducer",
                "io.minio.MinioClient", "io.opentelemetry.api.OpenTelemetry", "ch.qos.logback.classic.Logger",
                "io.micrometer.core.instrument.MeterRegistry", "io.xdyna.shared.kafka.EventPublisher");
        for (String name : runtime) {
            assertThat(present(name)).as(name + " on the contract's class path").isFalse();
        }
        assertThat(present("com.fasterxml.jackson.databind.ObjectMapper")).isTrue();
    }

    private static boolean present(String className) {
        try {
            Class.forName(className, false, ContractDependenciesTest.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }
}
