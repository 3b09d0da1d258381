package io.xdyna.gateway.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.xdyna.shared.config.ConfigException;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class ApiKeysTest {
    @Test
    @DisplayName("bearer keys map to their tenants; anything else maps to nobody")
    void resolvesTenants() {
        ApiKeys k = ApiKeys.parse("V", " acme:secret-1 , other:secret-2,acme:secret-3 ");
        assertThat(k.tenantOf("Bearer secret-1")).hasValue("acme");
        assertThat(k.tenantOf("bearer secret-3")).hasValue("acme");
        assertThat(k.tenantOf("Bearer secret-2")).hasValue("other");
        assertThat(k.tenantOf("Bearer secret-")).isEmpty();
        assertThat(k.tenantOf("Bearer secret-1x")).isEmpty();
        assertThat(k.tenantOf("secret-1")).isEmpty();
        assertThat(k.tenantOf("Basic secret-1")).isEmpty();
        assertThat(k.tenantOf(null)).isEmpty();
        assertThat(k.tenants()).containsExactly("acme", "other");
        assertThat(k.firstKeyOf("acme")).hasValue("secret-1");
    }

    @Test
    @DisplayName("malformed specs fail naming the variable, and never echo a key")
    void rejectsMalformedSpecs() {
        for (String bad : new String[] {"", " , ", "acme", "acme:", ":key-123", "ac me:key-123", "acme:tiny1",
                "a:same-key,b:same-key"}) {
            assertThatThrownBy(() -> ApiKeys.parse("XDYNA_API_KEYS", bad)).as(bad)
                    .isInstanceOf(ConfigException.class).hasMessageContaining("XDYNA_API_KEYS")
                    .satisfies(e -> assertThat(e.getMessage()).doesNotContain("same-key").doesNotContain("tiny1"));
        }
    }

    @Test
    @DisplayName("toString shows tenants only")
    void toStringHidesKeys() {
        assertThat(ApiKeys.parse("V", "acme:top-secret-key").toString()).contains("acme")
                .doesNotContain("top-secret-key");
    }
}
