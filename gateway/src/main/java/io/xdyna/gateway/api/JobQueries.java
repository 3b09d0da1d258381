package io.xdyna.gateway.api;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.xdyna.contract.event.JobStatus;
import io.xdyna.contract.job.JobState;
import io.xdyna.contract.storage.Output;
import io.xdyna.gateway.api.ErrorMapping.Code;
import io.xdyna.shared.stage.JobStatusLog;
import io.xdyna.shared.storage.ObjectStore;
import java.time.Duration;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/** Reading jobs: one status, a page of them, and short-lived links to their outputs. */
final class JobQueries {
    private static final String STATE = "state";
    private static final String LIMIT = "limit";
    private static final String OFFSET = "offset";
    /** {@code format=json} answers a download's link instead of redirecting to it. */
    private static final String FORMAT = "format";
    /** The query parameters {@link #list} reads (the router declares them). */
    static final List<String> LIST_QUERY = List.of(STATE, LIMIT, OFFSET);
    /** The query parameters a download reads. */
    static final List<String> DOWNLOAD_QUERY = List.of(FORMAT);

    private final Vertx vertx;
    private final ObjectStore store;
    private final JobStatusLog statuses;
    private final TenantJobs jobs;
    private final Duration presignTtl;

    JobQueries(Vertx vertx, ObjectStore store, JobStatusLog statuses, TenantJobs jobs, Duration presignTtl) {
        this.vertx = vertx;
        this.store = store;
        this.statuses = statuses;
        this.jobs = jobs;
        this.presignTtl = presignTtl;
    }

    void get(RoutingContext ctx) {
        TenantJobs.sendJson(ctx, 200, TenantJobs.toJson(jobs.owned(ctx)));
    }

    /** The tenant's jobs, most recently updated first, optionally of one state. */
    void list(RoutingContext ctx) {
        String tenant = TenantJobs.tenant(ctx);
        String state = ctx.queryParams().get(STATE);
        JobState filter = null;
        if (state != null && !state.isBlank()) {
            try {
                filter = JobState.valueOf(state.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new ApiError(Code.INVALID_REQUEST, "state must be one of " + List.of(JobState.values()));
            }
        }
        int limit = intParam(ctx, LIMIT, 50, 1, 500);
        int offset = intParam(ctx, OFFSET, 0, 0, Integer.MAX_VALUE);
        JobState f = filter;
        List<JobStatus> mine = statuses.all().stream().filter(s -> s.tenant().equals(tenant))
                .filter(s -> f == null || s.state() == f)
                .sorted(Comparator.comparing(JobStatus::updatedAt).thenComparing(JobStatus::id).reversed()).toList();
        JsonArray page = new JsonArray();
        mine.stream().skip(offset).limit(limit).forEach(s -> page.add(TenantJobs.toJson(s)));
        JsonObject body = new JsonObject().put("jobs", page).put("total", mine.size()).put("offset", offset)
                .put("limit", limit);
        if (offset + limit < mine.size()) {
            body.put("next", "/v1/jobs?offset=" + (offset + limit) + "&limit=" + limit
                    + (f == null ? "" : "&state=" + f.name()));
        }
        TenantJobs.sendJson(ctx, 200, body);
    }

    /** The output of a name, or 404 for an unknown name. */
    private static Output output(String name) {
        return Output.named(name).orElseThrow(() -> new ApiError(Code.NOT_FOUND, "no output '" + name
                + "'; outputs are " + String.join(", ", Arrays.stream(Output.values()).map(Output::outputName)
                        .toList())));
    }

    /** Where a job's output is: as the encoder reported it, else where the layout puts it. */
    private static String outputKey(JobStatus s, Output o) {
        return s.outputs() != null && s.outputs().containsKey(o.outputName()) ? s.outputs().get(o.outputName())
                : o.key(s.id());
    }

    void result(RoutingContext ctx) {
        download(ctx, Output.RESULT);
    }

    void output(RoutingContext ctx) {
        download(ctx, output(ctx.pathParam("name")));
    }

    /** A redirect to a presigned link of one output (or the link as JSON, for browsers). */
    private void download(RoutingContext ctx, Output output) {
        JobStatus s = jobs.owned(ctx);
        String key = outputKey(s, output);
        String name = output.outputName();
        // the pose preview exists while the job runs; the rest once it has succeeded
        if (!output.whileRunning() && s.state() != JobState.SUCCEEDED) {
            throw new ApiError(Code.NOT_READY, "job " + s.id() + " is " + s.state() + "; its " + name
                    + " exists once it has SUCCEEDED");
        }
        vertx.executeBlocking(() -> store.exists(key) ? store.presignGet(key, presignTtl) : null, false)
                .onComplete(ar -> {
                    if (ar.failed()) {
                        ctx.fail(ar.cause());
                    } else if (ar.result() == null) {
                        boolean notYet = output.whileRunning() && !s.state().terminal();
                        ErrorMapping.send(ctx, new ApiError(notYet ? Code.NOT_READY : Code.NOT_FOUND, "output '"
                                + name + "' of job " + s.id() + " does not exist" + (notYet ? " yet" : "")));
                    } else if ("json".equals(ctx.queryParams().get(FORMAT))) {
                        // for browsers: a cross-origin redirect's Location is hidden from scripts
                        TenantJobs.sendJson(ctx, 200, new JsonObject().put("url", ar.result())
                                .put("expiresInSeconds", presignTtl.toSeconds()));
                    } else {
                        ctx.response().setStatusCode(302).putHeader("Location", ar.result())
                                .putHeader("Cache-Control", "no-store").end();
                    }
                });
    }

    /** Presigned links of every output that exists now. */
    void outputs(RoutingContext ctx) {
        JobStatus s = jobs.owned(ctx);
        Map<String, String> keys = new LinkedHashMap<>();
        for (Output o : Output.values()) {
            if (o.whileRunning() || s.state() == JobState.SUCCEEDED) {
                keys.put(o.outputName(), outputKey(s, o));
            }
        }
        vertx.executeBlocking(() -> {
            JsonObject links = new JsonObject();
            for (Map.Entry<String, String> e : keys.entrySet()) {
                Optional<ObjectStore.ObjectInfo> info = store.stat(e.getValue());
                if (info.isPresent()) {
                    links.put(e.getKey(), new JsonObject().put("url", store.presignGet(e.getValue(), presignTtl))
                            .put("size", info.get().size()).put("contentType", info.get().contentType()));
                }
            }
            return links;
        }, false).onComplete(ar -> {
            if (ar.failed()) {
                ctx.fail(ar.cause());
            } else {
                TenantJobs.sendJson(ctx, 200, new JsonObject().put("id", s.id()).put("state", s.state().name())
                        .put("expiresInSeconds", presignTtl.toSeconds()).put("outputs", ar.result()));
            }
        });
    }

    private static int intParam(RoutingContext ctx, String name, int dflt, int min, int max) {
        String v = ctx.queryParams().get(name);
        if (v == null) {
            return dflt;
        }
        try {
            int i = Integer.parseInt(v);
            if (i < min || i > max) {
                throw new NumberFormatException();
            }
            return i;
        } catch (NumberFormatException e) {
            throw new ApiError(Code.INVALID_REQUEST, name + " must be an integer between " + min + " and " + max);
        }
    }
}
