package io.xdyna.gateway.auth;

import io.xdyna.shared.config.ConfigException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Bearer keys and the tenants they belong to. Keys are compared in constant time and never
 * logged or printed ({@link #toString()} shows tenants only). A tenant may have several keys (to
 * rotate them); a key belongs to one tenant.
 */
public final class ApiKeys {
    /** Tenant names: safe in logs, object keys and URLs. */
    public static final String TENANT_PATTERN = "[A-Za-z0-9][A-Za-z0-9_-]{0,63}";
    public static final int MIN_KEY_LENGTH = 6;

    private final Map<String, String> tenantByKey;

    private ApiKeys(Map<String, String> tenantByKey) {
        this.tenantByKey = Collections.unmodifiableMap(new LinkedHashMap<>(tenantByKey));
    }

    /** Parses {@code tenant:key,tenant2:key2}; errors name the variable but never echo a key. */
    public static ApiKeys parse(String variable, String spec) {
        Map<String, String> m = new LinkedHashMap<>();
        for (String[] tk : pairs(variable, spec, "key")) {
            if (tk[1].length() < MIN_KEY_LENGTH) {
                throw new ConfigException(variable + ": the key of tenant " + tk[0] + " is shorter than "
                        + MIN_KEY_LENGTH + " characters");
            }
            if (m.put(tk[1], tk[0]) != null) {
                throw new ConfigException(variable + ": the same key is given twice");
            }
        }
        if (m.isEmpty()) {
            throw new ConfigException(variable + " must name at least one tenant:key");
        }
        return new ApiKeys(m);
    }

    /**
     * Parses {@code tenant:secret,...} (webhook signing secrets); empty is allowed. A tenant given
     * twice is an error. Secrets are never echoed.
     */
    public static Map<String, String> parseSecrets(String variable, String spec) {
        Map<String, String> m = new LinkedHashMap<>();
        if (spec == null) {
            return m;
        }
        for (String[] ts : pairs(variable, spec, "secret")) {
            if (m.put(ts[0], ts[1]) != null) {
                throw new ConfigException(variable + ": tenant " + ts[0] + " is given twice");
            }
        }
        return m;
    }

    /** {@code [tenant, value]} pairs in order. */
    private static List<String[]> pairs(String variable, String spec, String what) {
        List<String[]> out = new ArrayList<>();
        int i = 0;
        for (String entry : spec.split(",")) {
            String e = entry.trim();
            if (e.isEmpty()) {
                continue;
            }
            int colon = e.indexOf(':');
            if (colon <= 0 || colon == e.length() - 1) {
                throw new ConfigException(variable + " must be tenant:" + what + " pairs separated by commas"
                        + " (entry " + (i + 1) + " is not)");
            }
            String tenant = e.substring(0, colon).trim();
            String value = e.substring(colon + 1).trim();
            if (!tenant.matches(TENANT_PATTERN)) {
                throw new ConfigException(variable + ": tenant names must match " + TENANT_PATTERN + " (entry "
                        + (i + 1) + " does not)");
            }
            if (value.isEmpty()) {
                throw new ConfigException(variable + ": tenant " + tenant + " has an empty " + what);
            }
            out.add(new String[] {tenant, value});
            i++;
        }
        return out;
    }

    /** The tenant of an {@code Authorization} header value, if it carries a known bearer key. */
    public Optional<String> tenantOf(String authorization) {
        if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return Optional.empty();
        }
        byte[] given = authorization.substring(7).trim().getBytes(StandardCharsets.UTF_8);
        String found = null;
        // no early exit: the time taken does not depend on which key matched
        for (Map.Entry<String, String> e : tenantByKey.entrySet()) {
            if (MessageDigest.isEqual(given, e.getKey().getBytes(StandardCharsets.UTF_8))) {
                found = e.getValue();
            }
        }
        return Optional.ofNullable(found);
    }

    /** Every tenant that has a key. */
    public Set<String> tenants() {
        return new LinkedHashSet<>(tenantByKey.values());
    }

    /** The first configured key of a tenant (the default webhook signing secret). */
    public Optional<String> firstKeyOf(String tenant) {
        return tenantByKey.entrySet().stream().filter(e -> e.getValue().equals(tenant)).map(Map.Entry::getKey)
                .findFirst();
    }

    @Override
    public String toString() {
        return "ApiKeys" + tenants();
    }
}
