package io.xdyna.pose.service;

import io.xdyna.shared.config.Env;
import io.xdyna.shared.service.ServiceRunner;

/** {@code java -cp ... io.xdyna.pose.service.PoseExtractorMain}: configuration from the environment. */
public final class PoseExtractorMain {
    private PoseExtractorMain() {
    }

    public static void main(String[] args) {
        PoseExtractorConfig config;
        try {
            config = PoseExtractorConfig.from(Env.system());
        } catch (RuntimeException e) {
            System.err.println("pose-extractor: " + e.getMessage());
            System.exit(2);
            return;
        }
        ServiceRunner.runMain(PoseExtractorService.create(config), "0.0.0.0", config.managementPort());
    }
}
