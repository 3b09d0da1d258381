package io.xdyna.gateway.auth;

import io.xdyna.shared.config.ConfigException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Bearer keys and the tenants they belong to. Keys are compared in constant time and never
 * logged or printed ({@link #toString()} shows tenants only).
 */
public final class ApiKeys {
    private final Map<String, String> tenantByKey;

    private ApiKeys(Map<String, String> tenantByKey) {
        this.tenantByKey = Map.copyOf(tenantByKey);
    }

    /** Parses {@code tenant:key,tenant2:key2}; errors name the variable but never echo a key. */
    public static ApiKeys parse(String variable, String spec) {
        Map<String, String> m = new LinkedHashMap<>();
        for (String entry : spec.split(",")) {
            String e = entry.trim();
            if (e.isEmpty()) {
                continue;
            }
            int colon = e.indexOf(':');
            if (colon <= 0 || colon == e.length() - 1) {
                throw new ConfigException(variable + " must be tenant:key pairs separated by commas");
            }
            String tenant = e.substring(0, colon).trim();
            String key = e.substring(colon + 1).trim();
            if (!tenant.matches("[A-Za-z0-9][A-Za-z0-9_-]{0,63}")) {
                throw new ConfigException(variable + ": tenant names must match [A-Za-z0-9][A-Za-z0-9_-]{0,63}");
            }
            if (key.length() < 6) {
                throw new ConfigException(variable + ": the key of tenant " + tenant + " is shorter than 6 characters");
            }
            if (m.put(key, tenant) != null) {
                throw new ConfigException(variable + ": the same key is given twice");
            }
        }
        if (m.isEmpty()) {
            throw new ConfigException(variable + " must name at least one tenant:key");
        }
        return new ApiKeys(m);
    }

    /** The tenant of an {@code Authorization} header value, if it carries a known bearer key. */
    public Optional<String> tenantOf(String authorization) {
        if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return Optional.empty();
        }
        byte[] given = authorization.substring(7).trim().getBytes(StandardCharsets.UTF_8);
        String found = null;
        for (Map.Entry<String, String> e : tenantByKey.entrySet()) {
            if (MessageDigest.isEqual(given, e.getKey().getBytes(StandardCharsets.UTF_8))) {
                found = e.getValue();
            }
        }
        return Optional.ofNullable(found);
    }

    @Override
    public String toString() {
        return "ApiKeys" + tenantByKey.values();
    }
}
