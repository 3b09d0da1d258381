package io.xdyna.launcher;

import com.fasterxml.jackson.databind.JsonNode;
import io.xdyna.contract.event.JobCompleted;
import io.xdyna.shared.storage.ObjectStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code xdyna soak}: pushes N small jobs through a throw-away local stack over the HTTP API,
 * optionally SIGKILLing a random service process every few seconds (the supervisor restarts it),
 * and counts what came out: a job is <em>lost</em> when it has no terminal state by the deadline or
 * its result objects are missing, <em>duplicated</em> when it has more than one distinct result
 * (see {@link ResultAudit}), <em>failed unrun</em> when the queue gave up on it without ever sampling
 * it; and how often each job was sampled ({@link SamplingLog}).
 */
@Command(name = "soak", mixinStandardHelpOptions = true,
        description = "Push N jobs through a throw-away local stack, optionally killing random service "
                + "processes, then print submitted / succeeded / failed / lost / duplicated / failed unrun and the "
                + "samplings per job. Exit 1 if any job was lost, duplicated or failed without being run.")
final class SoakCommand implements Callable<Integer> {
    static final Set<String> TERMINAL = Set.of("SUCCEEDED", "FAILED", "CANCELLED");
    /** Failure codes of a job the queue gave up on without sampling it. */
    static final List<String> UNRUN = List.of("DELIVERY_LIMIT", "STALLED", "RETRY_BUDGET_EXHAUSTED", "WORKER_LOST");

    /** Whether a job in this state (null: not seen yet) has ended. */
    static boolean ended(String state) {
        return state != null && TERMINAL.contains(state);
    }

    @Option(names = "--jobs", defaultValue = "30", description = "jobs to submit (default ${DEFAULT-VALUE})")
    int jobs;

    @Option(names = "--kill-random", description = "SIGKILL a random service process every --kill-interval seconds")
    boolean killRandom;

    @Option(names = "--kill-interval", defaultValue = "15",
            description = "seconds between kills (default ${DEFAULT-VALUE})")
    double killInterval;

    @Option(names = "--kill-for", description = "minutes of kills from the start, then the jobs drain"
            + " without kills (default: until every job ended). With real-length jobs and a kill every few seconds"
            + " nothing finishes while the killing lasts; a window of chaos then a drain tests both")
    Double killForMinutes;

    @Option(names = "--seed", description = "seed for the choice of victims (default: random, printed)")
    Long seed;

    @Option(names = "--animators", defaultValue = "1", description = "animator replicas (default ${DEFAULT-VALUE})")
    int animators;

    @Option(names = "--deadline", description = "minutes to wait for every job to end (default: 10 + jobs / 2)")
    Integer deadlineMinutes;

    @Option(names = "--params", description = "job parameters as JSON; each job gets its own seed (default "
            + SHORT + ", or with --long " + LONG + ")")
    String params;

    @Option(names = "--long", description = "jobs that sample for many lock periods (about a minute each on 2 cores),"
            + " with a 1 s lock: the backlog of real-length jobs the animator queue must survive")
    boolean longJobs;

    @Option(names = "--lock-ms", description = "the animator share group's lock in ms (default 15000, with --long 1000)")
    Integer lockMs;

    @Option(names = "--lease-ttl", defaultValue = "PT6S",
            description = "the animators' job lease (default ${DEFAULT-VALUE}): a killed animator's job is requeued after it")
    String leaseTtl;

    static final String SHORT = "{\"width\":128,\"height\":192,\"length\":8,\"stride\":4,\"steps\":4}";
    static final String LONG = "{\"width\":256,\"height\":448,\"length\":48,\"stride\":1,\"steps\":25}";

    @Override
    public Integer call() throws Exception {
        if (jobs < 1 || killInterval <= 0 || animators < 1 || killForMinutes != null && killForMinutes <= 0) {
            System.err.println("xdyna soak: --jobs, --kill-interval, --kill-for and --animators must be positive");
            return 2;
        }
        long actualSeed = seed != null ? seed : new Random().nextLong();
        if (params == null) {
            params = longJobs ? LONG : SHORT;
        }
        Duration deadline = Duration.ofMinutes(deadlineMinutes != null ? deadlineMinutes : 10 + jobs / 2);
        Path root = Xdyna.root();
        Path examples = root.resolve("../shared/examples").normalize();
        Path data = Files.createTempDirectory("xdyna-soak");
        long t0 = System.nanoTime();
        try (LocalStack stack = new LocalStack(LocalStack.Settings.throwaway(root, data, animators))) {
            // Ctrl-C: stop the services and the broker too, not only this JVM
            Thread cleanup = new Thread(stack::close, "soak-shutdown");
            Runtime.getRuntime().addShutdownHook(cleanup);
            stack.serviceEnv("XDYNA_LOCK_DURATION_MS", Integer.toString(lockMs != null ? lockMs : longJobs ? 1000 : 15000));
            stack.serviceEnv("XDYNA_LEASE_TTL", leaseTtl);
            stack.serviceEnv("XDYNA_CHECKPOINT_EVERY", "1");
            stack.start();
            stack.awaitAllReady(Duration.ofMinutes(3));
            System.out.printf("soak: stack up in %.0f s (data %s); %d jobs, %s, seed %d, deadline %s%n",
                    (System.nanoTime() - t0) / 1e9, data, jobs, killRandom ? "killing a random service every "
                            + killInterval + " s" + (killForMinutes == null ? "" : " for " + killForMinutes + " min")
                            : "no kills", actualSeed, deadline);
            long start = System.nanoTime();
            long end = start + deadline.toNanos();
            Map<String, String> states = new ConcurrentHashMap<>();
            Map<String, Integer> kills = new TreeMap<>();
            AtomicBoolean done = new AtomicBoolean();
            Thread killer = killRandom ? killer(stack, new Random(actualSeed), kills, done) : null;

            ApiClient api = stack.api();
            List<String> ids = new ArrayList<>();
            int refused = 0;
            for (int i = 0; i < jobs; i++) {
                String id = submit(api, examples, i, end);
                if (id == null) {
                    refused++;
                } else {
                    ids.add(id);
                }
            }
            awaitTerminal(api, ids, states, end);
            done.set(true);
            if (killer != null) {
                killer.join();
            }
            // the counts are taken with every service alive again, and nothing still running
            List<String> notEnded = ids.stream().filter(id -> !ended(states.get(id))).toList();
            Map<String, List<JobCompleted>> completions = ResultAudit.completions(stack.config());
            int succeeded = 0;
            int failed = 0;
            int lost = refused + notEnded.size();
            int duplicated = 0;
            int redelivered = 0;
            int failedUnrun = 0;
            List<String> problems = new ArrayList<>();
            Map<String, List<SamplingLog.Start>> samplings = SamplingLog.read(SamplingLog.animatorLogs(stack));
            try (ObjectStore store = new ObjectStore(stack.config())) {
                for (String id : ids) {
                    String state = states.get(id);
                    ResultAudit.Verdict v = ResultAudit.check(store, id, completions.get(id));
                    if (v.completions() > 1) {
                        redelivered++;
                    }
                    if (v.duplicated()) {
                        duplicated++;
                        problems.add(id + " duplicated: " + v.problem());
                    }
                    if ("SUCCEEDED".equals(state)) {
                        if (v.missing()) {
                            lost++;
                            problems.add(id + " lost: " + v.problem());
                        } else {
                            succeeded++;
                        }
                    } else if (ended(state)) {
                        failed++;
                        String why = failure(api, id);
                        if (samplings.getOrDefault(id, List.of()).isEmpty() && UNRUN.stream().anyMatch(why::startsWith)) {
                            failedUnrun++;
                        }
                        problems.add(id + " " + state + ": " + why);
                    } else {
                        problems.add(id + " lost: still " + state + " at the deadline");
                    }
                }
            }
            for (String p : problems) {
                System.out.println("  " + p);
            }
            Map<String, Integer> restarts = new LinkedHashMap<>();
            stack.services().forEach(s -> restarts.put(s.name(), s.restarts()));
            System.out.printf("submitted %d / succeeded %d / failed %d / lost %d / duplicated %d / failed unrun %d%n",
                    jobs, succeeded, failed, lost, duplicated, failedUnrun);
            int[] perJob = ids.stream().mapToInt(id -> samplings.getOrDefault(id, List.of()).size()).toArray();
            Map<Integer, Integer> histogram = new TreeMap<>();
            for (int n : perJob) {
                histogram.merge(n, 1, Integer::sum);
            }
            System.out.printf("samplings per job: max %d, total %d for %d jobs; jobs by samplings %s%n",
                    Arrays.stream(perJob).max().orElse(0), Arrays.stream(perJob).sum(), ids.size(),
                    histogram);
            System.out.printf("kills %d %s, restarts %s, jobs completed more than once (same outputs) %d, "
                    + "wall time %.0f s (jobs %.0f s)%n", kills.values().stream().mapToInt(Integer::intValue).sum(),
                    kills, restarts, redelivered, (System.nanoTime() - t0) / 1e9, (System.nanoTime() - start) / 1e9);
            Runtime.getRuntime().removeShutdownHook(cleanup);
            return lost == 0 && duplicated == 0 && failedUnrun == 0 ? 0 : 1;
        } finally {
            BenchCommand.deleteQuietly(data);
        }
    }

    /** Submits job {@code i}, retrying while the gateway is down; the idempotency key prevents a twin. */
    private String submit(ApiClient api, Path examples, int i, long end) throws InterruptedException {
        String p = params.replaceFirst("}\\s*$", ",\"seed\":" + (1000 + i) + "}");
        int example = 1 + i % 2;
        String key = "soak-" + System.nanoTime() + "-" + i;
        while (System.nanoTime() < end) {
            try {
                return api.submit(examples.resolve("example_" + example + "_reference.jpg"),
                        examples.resolve("example_" + example + "_driving.mp4"), null, p, key).get("id").asText();
            } catch (ApiClient.ApiException e) {
                // 429: the tenant's quota of unfinished jobs is full; wait for some to finish
                if (e.status() < 500 && e.status() != 409 && e.status() != 429) {
                    System.out.println("  job " + i + " refused: " + e.getMessage());
                    return null;
                }
            } catch (IOException e) {
                // the gateway is being restarted
            }
            Thread.sleep(1000);
        }
        return null;
    }

    private static void awaitTerminal(ApiClient api, List<String> ids, Map<String, String> states, long end)
            throws InterruptedException {
        long lastReport = 0;
        while (System.nanoTime() < end) {
            for (String id : ids) {
                if (ended(states.get(id))) {
                    continue;
                }
                try {
                    states.put(id, api.status(id).get("state").asText());
                } catch (IOException e) {
                    // the gateway is being restarted: ask again next round
                }
            }
            long ended = ids.stream().filter(id -> ended(states.get(id))).count();
            if (ended == ids.size()) {
                return;
            }
            if (System.nanoTime() - lastReport > 30_000_000_000L) {
                lastReport = System.nanoTime();
                System.out.printf("soak: %d of %d jobs ended%n", ended, ids.size());
            }
            Thread.sleep(1000);
        }
    }

    private static String failure(ApiClient api, String id) {
        try {
            JsonNode s = api.status(id);
            return s.path("error").path("code").asText("?") + " " + s.path("error").path("message").asText("");
        } catch (Exception e) {
            return "(status unavailable: " + e.getMessage() + ")";
        }
    }

    /** Kills a random live service every interval until {@code done}; the supervisor restarts each. */
    private Thread killer(LocalStack stack, Random random, Map<String, Integer> kills, AtomicBoolean done) {
        Thread t = new Thread(() -> {
            long intervalMs = Math.round(killInterval * 1000);
            long stopAt = killForMinutes == null ? Long.MAX_VALUE
                    : System.nanoTime() + Math.round(killForMinutes * 60e9);
            while (!done.get()) {
                try {
                    Thread.sleep(intervalMs);
                } catch (InterruptedException e) {
                    return;
                }
                if (done.get()) {
                    return;
                }
                if (System.nanoTime() > stopAt) {
                    System.out.printf("soak: %.1f min of kills over; the jobs drain%n", killForMinutes);
                    return;
                }
                List<ServiceProcess> alive = stack.services().stream().filter(s -> s.pid() != null).toList();
                if (alive.isEmpty()) {
                    continue;
                }
                ServiceProcess victim = alive.get(random.nextInt(alive.size()));
                System.out.printf("soak: SIGKILL %s (pid %d)%n", victim.name(), victim.pid());
                victim.kill();
                synchronized (kills) {
                    kills.merge(victim.name(), 1, Integer::sum);
                }
            }
        }, "soak-killer");
        t.setDaemon(true);
        t.start();
        return t;
    }
}
