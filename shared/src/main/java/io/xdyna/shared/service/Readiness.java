package io.xdyna.shared.service;

import java.util.List;

/** Why a service is not ready to take work; empty when it is. Checked by {@code /health/ready}. */
@FunctionalInterface
public interface Readiness {
    List<String> notReadyReasons();
}
