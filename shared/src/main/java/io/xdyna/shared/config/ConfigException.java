package io.xdyna.shared.config;

/** A configuration value is missing or invalid; the message names the environment variable. */
public class ConfigException extends RuntimeException {
    public ConfigException(String message) {
        super(message);
    }
}
