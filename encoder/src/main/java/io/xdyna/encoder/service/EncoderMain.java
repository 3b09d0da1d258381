package io.xdyna.encoder.service;

import io.xdyna.shared.config.Env;
import io.xdyna.shared.service.ServiceRunner;

/** Starts the encoder service: reads the environment, then runs until SIGTERM. */
public final class EncoderMain {
    private EncoderMain() {
    }

    public static void main(String[] args) {
        EncoderConfig config = EncoderConfig.from(Env.system());
        String group = Env.system().string("XDYNA_ENCODER_GROUP", config.common().topics().encoderGroup());
        ServiceRunner.runMain(EncoderService.create(config, group), "0.0.0.0", config.managementPort());
    }
}
