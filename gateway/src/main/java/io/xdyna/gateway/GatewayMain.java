package io.xdyna.gateway;

import io.xdyna.shared.config.ConfigException;
import io.xdyna.shared.config.Env;
import io.xdyna.shared.service.ServiceRunner;

/** Starts the gateway: HTTP API, web app, health and metrics on one port. */
public final class GatewayMain {
    private GatewayMain() {
    }

    public static void main(String[] args) {
        GatewayConfig config;
        try {
            config = GatewayConfig.from(Env.system());
        } catch (ConfigException e) {
            System.err.println("gateway: " + e.getMessage());
            System.exit(2);
            return;
        }
        ServiceRunner.runMain(new GatewayService(config), config.host(), config.port());
    }
}
