package io.xdyna.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.xdyna.shared.config.ConfigException;
import io.xdyna.shared.config.Env;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class GatewayConfigTest {
    @Test
    @DisplayName("defaults: port 8080 on all interfaces, 512 MB uploads, 15 minute links, limits on")
    void defaults() {
        GatewayConfig c = GatewayConfig.from(new Env(Map.of("XDYNA_API_KEYS", "local:dev-key")));
        assertThat(c.port()).isEqualTo(8080);
        assertThat(c.host()).isEqualTo("0.0.0.0");
        assertThat(c.maxUploadBytes()).isEqualTo(512L * 1024 * 1024);
        assertThat(c.presignTtl()).isEqualTo(Duration.ofMinutes(15));
        assertThat(c.limits()).isEqualTo(new GatewayConfig.Limits(600, 30, 20));
        assertThat(c.keys().tenantOf("Bearer dev-key")).hasValue("local");
        assertThat(c.webhookSecret("local")).isEqualTo("dev-key");
    }

    @Test
    @DisplayName("every variable is read")
    void readsEverything() {
        GatewayConfig c = GatewayConfig.from(new Env(Map.of("XDYNA_API_KEYS", "a:key-aaa,b:key-bbb",
                "XDYNA_HTTP_PORT", "9090", "XDYNA_HTTP_HOST", "127.0.0.1", "XDYNA_MAX_UPLOAD_MB", "3",
                "XDYNA_UPLOAD_DIR", "/tmp/up", "XDYNA_PRESIGN_TTL", "60", "XDYNA_RATE_LIMIT_PER_MINUTE", "7",
                "XDYNA_SUBMIT_LIMIT_PER_MINUTE", "0", "XDYNA_MAX_ACTIVE_JOBS", "2",
                "XDYNA_WEBHOOK_SECRETS", "b:hook-b")));
        assertThat(c.port()).isEqualTo(9090);
        assertThat(c.host()).isEqualTo("127.0.0.1");
        assertThat(c.maxUploadBytes()).isEqualTo(3L * 1024 * 1024);
        assertThat(c.uploadDir()).isEqualTo(Path.of("/tmp/up"));
        assertThat(c.presignTtl()).isEqualTo(Duration.ofSeconds(60));
        assertThat(c.limits()).isEqualTo(new GatewayConfig.Limits(7, 0, 2));
        assertThat(c.webhookSecret("b")).isEqualTo("hook-b");
        assertThat(c.webhookSecret("a")).isEqualTo("key-aaa");
        assertThat(c.toString()).doesNotContain("key-aaa").doesNotContain("hook-b");
    }

    @Test
    @DisplayName("retention: 7 days by default, swept every 10 minutes; 0 or off keeps jobs for ever")
    void retention() {
        GatewayConfig dflt = GatewayConfig.from(new Env(Map.of("XDYNA_API_KEYS", "a:key-aaa")));
        assertThat(dflt.retention().maxAge()).isEqualTo(Duration.ofDays(7));
        assertThat(dflt.retention().sweepInterval()).isEqualTo(Duration.ofMinutes(10));
        assertThat(dflt.retention().enabled()).isTrue();
        GatewayConfig set = GatewayConfig.from(new Env(Map.of("XDYNA_API_KEYS", "a:key-aaa",
                "XDYNA_RETENTION", "P30D", "XDYNA_RETENTION_SWEEP_INTERVAL", "60")));
        assertThat(set.retention().maxAge()).isEqualTo(Duration.ofDays(30));
        assertThat(set.retention().sweepInterval()).isEqualTo(Duration.ofMinutes(1));
        assertThat(GatewayConfig.from(new Env(Map.of("XDYNA_API_KEYS", "a:key-aaa", "XDYNA_RETENTION", "off")))
                .retention().enabled()).isFalse();
        assertThatThrownBy(() -> GatewayConfig.from(new Env(Map.of("XDYNA_API_KEYS", "a:key-aaa",
                "XDYNA_RETENTION", "a week")))).hasMessageContaining("XDYNA_RETENTION");
        assertThatThrownBy(() -> GatewayConfig.from(new Env(Map.of("XDYNA_API_KEYS", "a:key-aaa",
                "XDYNA_RETENTION_SWEEP_INTERVAL", "0")))).hasMessageContaining("XDYNA_RETENTION_SWEEP_INTERVAL");
    }

    @Test
    @DisplayName("missing or malformed settings fail at startup naming the variable")
    void failsNamingTheVariable() {
        assertThatThrownBy(() -> GatewayConfig.from(new Env(Map.of()))).isInstanceOf(ConfigException.class)
                .hasMessageContaining("XDYNA_API_KEYS");
        assertThatThrownBy(() -> GatewayConfig.from(new Env(Map.of("XDYNA_API_KEYS", "nokey"))))
                .hasMessageContaining("XDYNA_API_KEYS");
        assertThatThrownBy(() -> GatewayConfig.from(new Env(Map.of("XDYNA_API_KEYS", "a:key-aaa",
                "XDYNA_HTTP_PORT", "http")))).hasMessageContaining("XDYNA_HTTP_PORT");
        assertThatThrownBy(() -> GatewayConfig.from(new Env(Map.of("XDYNA_API_KEYS", "a:key-aaa",
                "XDYNA_MAX_UPLOAD_MB", "0")))).hasMessageContaining("XDYNA_MAX_UPLOAD_MB");
        assertThatThrownBy(() -> GatewayConfig.from(new Env(Map.of("XDYNA_API_KEYS", "a:key-aaa",
                "XDYNA_WEBHOOK_SECRETS", "z:zzz")))).hasMessageContaining("XDYNA_WEBHOOK_SECRETS");
    }
}
