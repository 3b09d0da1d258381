package io.xdyna.shared.service;

import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;
import java.util.List;

/**
 * A service the runner starts: it gets a Vert.x instance and the meter registry, exposes readiness,
 * and may add routes to the management router (the gateway serves its API there too).
 */
public interface ManagedService extends Readiness {
    String name();

    Future<Void> start(Vertx vertx, MeterRegistry metrics);

    /** Finish or hand back the current job, then release clients. */
    Future<Void> stop();

    /**
     * Why this process can never work again without a restart ({@code /health/live} answers 503 with
     * them); empty, the default, while a restart would not help.
     */
    default List<String> notLiveReasons() {
        return List.of();
    }

    /** Extra routes on the service's HTTP port (the gateway's API); none by default. */
    default void routes(Router router) {
    }
}
