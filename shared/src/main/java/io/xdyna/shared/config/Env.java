package io.xdyna.shared.config;

import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Typed access to environment variables with documented defaults. Every failure names the
 * variable, so a misconfigured service fails at startup with a message an operator can act on.
 */
public final class Env {
    private final Map<String, String> vars;

    public Env(Map<String, String> vars) {
        this.vars = Map.copyOf(vars);
    }

    public static Env system() {
        return new Env(System.getenv());
    }

    public String string(String name, String defaultValue) {
        String v = vars.get(name);
        return v == null || v.isBlank() ? defaultValue : v.trim();
    }

    public String required(String name) {
        String v = string(name, null);
        if (v == null) {
            throw new ConfigException(name + " must be set");
        }
        return v;
    }

    public int integer(String name, int defaultValue, int min, int max) {
        String v = string(name, null);
        if (v == null) {
            return defaultValue;
        }
        try {
            int i = Integer.parseInt(v);
            if (i < min || i > max) {
                throw new ConfigException(name + " must be between " + min + " and " + max + ", got " + v);
            }
            return i;
        } catch (NumberFormatException e) {
            throw new ConfigException(name + " must be an integer, got '" + v + "'");
        }
    }

    public long longValue(String name, long defaultValue, long min, long max) {
        String v = string(name, null);
        if (v == null) {
            return defaultValue;
        }
        try {
            long i = Long.parseLong(v);
            if (i < min || i > max) {
                throw new ConfigException(name + " must be between " + min + " and " + max + ", got " + v);
            }
            return i;
        } catch (NumberFormatException e) {
            throw new ConfigException(name + " must be an integer, got '" + v + "'");
        }
    }

    /**
     * A duration as ISO-8601 ({@code PT15M}, {@code P7D}) or whole seconds ({@code 900});
     * {@code 0} or {@code off} give {@link java.time.Duration#ZERO}, which callers read as "no limit".
     */
    public Duration duration(String name, Duration defaultValue) {
        String v = string(name, null);
        if (v == null) {
            return defaultValue;
        }
        if (v.equalsIgnoreCase("off")) {
            return Duration.ZERO;
        }
        Duration d;
        try {
            d = v.chars().allMatch(Character::isDigit) ? Duration.ofSeconds(Long.parseLong(v))
                    : Duration.parse(v.toUpperCase(Locale.ROOT));
        } catch (RuntimeException e) {
            throw new ConfigException(name + " must be seconds or an ISO-8601 duration such as PT15M or P7D"
                    + " (0 or off for none), got '" + v + "'");
        }
        if (d.isNegative()) {
            throw new ConfigException(name + " must not be negative, got '" + v + "'");
        }
        return d;
    }

    public boolean bool(String name, boolean defaultValue) {
        String v = string(name, null);
        if (v == null) {
            return defaultValue;
        }
        return switch (v.toLowerCase()) {
            case "true", "1", "yes", "on" -> true;
            case "false", "0", "no", "off" -> false;
            default -> throw new ConfigException(name + " must be true or false, got '" + v + "'");
        };
    }

    /** A copy with some variables overridden (tests, the local launcher). */
    public Env with(Map<String, String> overrides) {
        HashMap<String, String> m = new HashMap<>(vars);
        m.putAll(overrides);
        return new Env(m);
    }
}
