package io.xdyna.animator.service;

import io.xdyna.shared.config.Env;
import io.xdyna.shared.service.ServiceRunner;

/** {@code java -cp ... io.xdyna.animator.service.AnimatorMain}: configuration from the environment. */
public final class AnimatorMain {
    private AnimatorMain() {
    }

    public static void main(String[] args) {
        AnimatorConfig config;
        try {
            config = AnimatorConfig.from(Env.system());
        } catch (RuntimeException e) {
            System.err.println("animator: " + e.getMessage());
            System.exit(2);
            return;
        }
        ServiceRunner.runMain(AnimatorService.create(config), "0.0.0.0", config.managementPort());
    }
}
