package io.xdyna.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.Router;
import io.xdyna.gateway.GatewayConfig;
import io.xdyna.shared.config.Env;
import io.xdyna.shared.service.ManagementRoutes;
import io.xdyna.shared.stage.JobStatusLog;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The served {@code /openapi.json} and the code cannot drift apart: the routes are read from a router
 * the gateway's own code mounted ({@link ApiRouter}, plus the shared health and metrics routes), the
 * parameters and errors from {@link ApiRouter#routes()} and the status of each code from {@link
 * ErrorMapping}. Nothing here is a hand-copied list of the API.
 */
class OpenApiDriftTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> METHODS = Set.of("get", "put", "post", "delete", "patch", "head", "options");

    @TempDir
    static Path uploads;
    private static Vertx vertx;
    private static JobStatusLog statuses;
    private static List<ApiRoute> table;
    private static Router router;
    private static JsonNode doc;

    @BeforeAll
    static void mount() throws IOException {
        vertx = Vertx.vertx();
        statuses = new JobStatusLog("127.0.0.1:1", "xdyna.status", "openapi-drift-test");
        GatewayConfig config = GatewayConfig.from(new Env(Map.of("XDYNA_API_KEYS", "t:key-of-t",
                "XDYNA_UPLOAD_DIR", uploads.toString())));
        // the handlers are never called: no store, broker or status reporter is needed to list them
        ApiRouter api = new ApiRouter(config, vertx, null, null, null, statuses,
                new JobRemoval(null, null, "xdyna.status", statuses), null);
        table = api.routes();
        router = Router.router(vertx);
        ManagementRoutes.mount(router, "gateway", List::of, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
        api.mount(router);
        try (InputStream in = OpenApiDriftTest.class.getResourceAsStream("/webroot/openapi.json")) {
            assertThat(in).as("webroot/openapi.json, served by the gateway's StaticHandler").isNotNull();
            doc = JSON.readTree(in);
        }
    }

    @AfterAll
    static void close() {
        statuses.close();
        vertx.close();
    }

    @Test
    @DisplayName("every route the router registers is in the document, and every operation of the document is routed")
    void routes() {
        Set<String> routed = new TreeSet<>();
        for (Route r : router.getRoutes()) {
            // routes for every method are filters (authentication, fallback 404), not operations
            if (r.methods() != null && !r.methods().isEmpty()) {
                for (HttpMethod m : r.methods()) {
                    routed.add(m.name() + " " + r.getPath().replaceAll(":(\\w+)", "{$1}"));
                }
            }
        }
        assertThat(routed).isEqualTo(documentedOperations());
        Set<String> tabled = table.stream().map(r -> r.method().name() + " " + r.openApiPath())
                .collect(Collectors.toCollection(TreeSet::new));
        assertThat(tabled).as("ApiRouter.routes() is what ApiRouter.mount routes under /v1")
                .isEqualTo(routed.stream().filter(o -> o.contains(" /v1/")).collect(Collectors.toSet()));
    }

    @Test
    @DisplayName("every path and query parameter a handler reads is declared for its operation, and no other")
    void parameters() {
        SoftAssertions drift = new SoftAssertions();
        for (ApiRoute r : table) {
            String op = r.method().name() + " " + r.openApiPath();
            drift.assertThat(declaredParameters(r, "path")).as(op + " path parameters")
                    .isEqualTo(Set.copyOf(r.pathParams()));
            drift.assertThat(declaredParameters(r, "query")).as(op + " query parameters")
                    .isEqualTo(Set.copyOf(r.query()));
        }
        drift.assertAll();
    }

    @Test
    @DisplayName("every error status a route can answer is among its documented responses, and no other")
    void errorStatuses() {
        SoftAssertions drift = new SoftAssertions();
        for (ApiRoute r : table) {
            Set<String> produced = new TreeSet<>();
            ApiRouter.EVERY_ROUTE.forEach(c -> produced.add(Integer.toString(c.status())));
            r.errors().forEach(c -> produced.add(Integer.toString(c.status())));
            r.jobErrors().forEach(c -> produced.add(Integer.toString(ErrorMapping.status(c))));
            Set<String> documented = new TreeSet<>();
            operation(r).get("responses").fieldNames().forEachRemaining(s -> {
                if (s.matches("[45]\\d\\d")) {
                    documented.add(s);
                }
            });
            drift.assertThat(documented).as(r.method() + " " + r.openApiPath() + " error responses")
                    .isEqualTo(produced);
        }
        drift.assertAll();
    }

    @Test
    @DisplayName("every error code the API answers with is named in the document's Error schema, and routed somewhere")
    void errorCodes() {
        String described = doc.at("/components/schemas/Error/properties/code/description").asText();
        List<String> codes = new ArrayList<>();
        for (ErrorMapping.Code c : ErrorMapping.Code.values()) {
            codes.add(c.name());
            assertThat(ApiRouter.EVERY_ROUTE.contains(c) || table.stream().anyMatch(r -> r.errors().contains(c)))
                    .as(c + " is in ErrorMapping's table but no route declares it").isTrue();
        }
        table.forEach(r -> r.jobErrors().forEach(c -> codes.add(c.name())));
        for (String code : codes) {
            assertThat(described).as("Error.code's description").containsPattern("\\b" + code + "\\b");
        }
    }

    private static Set<String> documentedOperations() {
        Set<String> ops = new TreeSet<>();
        doc.get("paths").fields().forEachRemaining(p -> p.getValue().fieldNames().forEachRemaining(m -> {
            if (METHODS.contains(m)) {
                ops.add(m.toUpperCase(Locale.ROOT) + " " + p.getKey());
            }
        }));
        return ops;
    }

    private static JsonNode operation(ApiRoute r) {
        JsonNode op = doc.get("paths").path(r.openApiPath()).path(r.method().name().toLowerCase(Locale.ROOT));
        assertThat(op.isObject()).as(r.method() + " " + r.openApiPath() + " in the document").isTrue();
        return op;
    }

    /** The names of an operation's parameters in one place, its path item's included, $refs resolved. */
    private static Set<String> declaredParameters(ApiRoute r, String in) {
        Set<String> names = new TreeSet<>();
        List<JsonNode> params = new ArrayList<>();
        JsonNode op = operation(r);
        doc.get("paths").get(r.openApiPath()).path("parameters").forEach(params::add);
        op.path("parameters").forEach(params::add);
        for (JsonNode p : params) {
            JsonNode resolved = p.has("$ref") ? doc.at(p.get("$ref").asText().substring(1)) : p;
            if (in.equals(resolved.path("in").asText())) {
                names.add(resolved.get("name").asText());
            }
        }
        return names;
    }
}
