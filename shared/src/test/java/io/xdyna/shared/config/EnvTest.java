package io.xdyna.shared.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EnvTest {
    @Test
    void typedValuesWithDefaultsAndErrorsNamingTheVariable() {
        Env env = new Env(Map.of("A", "12", "B", "yes", "C", "abc", "D", " "));
        assertThat(env.integer("A", 1, 0, 100)).isEqualTo(12);
        assertThat(env.integer("MISSING", 5, 0, 100)).isEqualTo(5);
        assertThat(env.bool("B", false)).isTrue();
        assertThat(env.string("D", "dflt")).isEqualTo("dflt");
        assertThatThrownBy(() -> env.integer("C", 1, 0, 9)).hasMessageContaining("C must be an integer");
        assertThatThrownBy(() -> env.integer("A", 1, 0, 9)).hasMessageContaining("A must be between 0 and 9");
        assertThatThrownBy(() -> env.required("NOPE")).hasMessageContaining("NOPE must be set");
        assertThatThrownBy(() -> env.bool("C", true)).hasMessageContaining("C must be true or false");
    }

    @Test
    void durationsInSecondsOrIso8601AndOffMeansZero() {
        Env env = new Env(Map.of("S", "900", "I", "pt4h", "D", "P7D", "OFF", "off", "Z", "0", "BAD", "4 hours",
                "NEG", "PT-5S"));
        Duration dflt = Duration.ofMinutes(3);
        assertThat(env.duration("S", dflt)).isEqualTo(Duration.ofMinutes(15));
        assertThat(env.duration("I", dflt)).isEqualTo(Duration.ofHours(4));
        assertThat(env.duration("D", dflt)).isEqualTo(Duration.ofDays(7));
        assertThat(env.duration("OFF", dflt)).isZero();
        assertThat(env.duration("Z", dflt)).isZero();
        assertThat(env.duration("MISSING", dflt)).isEqualTo(dflt);
        assertThatThrownBy(() -> env.duration("BAD", dflt)).hasMessageContaining("BAD must be seconds or an ISO-8601");
        assertThatThrownBy(() -> env.duration("NEG", dflt)).hasMessageContaining("NEG must not be negative");
    }

    @Test
    void commonConfigDefaultsPointAtALocalStack() {
        CommonConfig c = CommonConfig.from(new Env(Map.of("S3_ENDPOINT", "http://127.0.0.1:9999")));
        assertThat(c.kafkaBootstrap()).isEqualTo("localhost:9092");
        assertThat(c.s3PublicEndpoint()).isEqualTo("http://127.0.0.1:9999");
        assertThat(c.topics().status()).isEqualTo("xdyna.jobs.status");
    }
}
