package io.xdyna.gateway.api;

import io.vertx.core.Handler;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.RoutingContext;
import io.xdyna.contract.job.ErrorCode;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One route of the API and what its handler may read and answer: the query parameters it reads and
 * the error codes it may answer with besides those every route may ({@link ApiRouter#EVERY_ROUTE}).
 * The declarations are what {@code OpenApiDriftTest} holds the OpenAPI document to.
 */
public record ApiRoute(HttpMethod method, String path, Handler<RoutingContext> handler, List<String> query,
        Set<ErrorMapping.Code> errors, Set<ErrorCode> jobErrors) {
    private static final Pattern PATH_PARAM = Pattern.compile(":(\\w+)");

    static ApiRoute get(String path, Handler<RoutingContext> handler) {
        return new ApiRoute(HttpMethod.GET, path, handler, List.of(), Set.of(), Set.of());
    }

    static ApiRoute post(String path, Handler<RoutingContext> handler) {
        return new ApiRoute(HttpMethod.POST, path, handler, List.of(), Set.of(), Set.of());
    }

    static ApiRoute delete(String path, Handler<RoutingContext> handler) {
        return new ApiRoute(HttpMethod.DELETE, path, handler, List.of(), Set.of(), Set.of());
    }

    ApiRoute query(List<String> names) {
        return new ApiRoute(method, path, handler, List.copyOf(names), errors, jobErrors);
    }

    ApiRoute errors(ErrorMapping.Code first, ErrorMapping.Code... rest) {
        return new ApiRoute(method, path, handler, query, Set.copyOf(EnumSet.of(first, rest)), jobErrors);
    }

    /** Job failures (bad upload, bad params) the handler may answer with, by their {@link ErrorCode}. */
    ApiRoute jobErrors(Set<ErrorCode> codes) {
        return new ApiRoute(method, path, handler, query, errors, Set.copyOf(codes));
    }

    /** The names of the path's parameters ({@code :id} → {@code id}). */
    public List<String> pathParams() {
        Matcher m = PATH_PARAM.matcher(path);
        return m.results().map(r -> r.group(1)).toList();
    }

    /** The path as OpenAPI writes it ({@code /v1/jobs/:id} → {@code /v1/jobs/{id}}). */
    public String openApiPath() {
        return PATH_PARAM.matcher(path).replaceAll("{$1}");
    }
}
