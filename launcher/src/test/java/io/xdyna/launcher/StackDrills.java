package io.xdyna.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.xdyna.contract.event.JobStatus;
import io.xdyna.contract.job.JobState;
import io.xdyna.shared.stage.JobStatusLog;
import io.xdyna.shared.storage.ObjectStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.awaitility.core.ConditionTimeoutException;

/**
 * One throw-away {@link LocalStack} for a test class's failure drills: free ports, a temp data dir,
 * the tiny bundles, every service its own supervised JVM. Watches the status topic so a drill can
 * strike at the moment a job is in a given stage.
 */
final class StackDrills implements AutoCloseable {
    final LocalStack stack;
    final Path data;
    final ApiClient api;
    final ObjectStore store;
    final JobStatusLog statuses;
    /** Every status update seen, in order. */
    final List<JobStatus> seen = new CopyOnWriteArrayList<>();

    private StackDrills(LocalStack stack, Path data) {
        this.stack = stack;
        this.data = data;
        this.api = stack.api();
        this.store = new ObjectStore(stack.config());
        this.statuses = new JobStatusLog(stack.config().kafkaBootstrap(), stack.config().topics().status(), "drills");
        statuses.onUpdate(seen::add);
        statuses.start();
    }

    static StackDrills start(int animators, Map<String, String> serviceEnv) throws Exception {
        Path data = Files.createTempDirectory("xdyna-drills");
        LocalStack stack = new LocalStack(LocalStack.Settings.throwaway(TestPaths.repoRoot(), data, animators));
        serviceEnv.forEach(stack::serviceEnv);
        try {
            stack.start();
            stack.awaitAllReady(Duration.ofMinutes(3));
        } catch (Exception | Error e) {
            stack.close();
            throw e;
        }
        return new StackDrills(stack, data);
    }

    /** Submits example 1 or 2 with these parameters through the HTTP API; returns the job id. */
    String submit(int example, String params) throws Exception {
        Path ex = TestPaths.examples();
        return api.submit(ex.resolve("example_" + example + "_reference.jpg"),
                ex.resolve("example_" + example + "_driving.mp4"), null, params).get("id").asText();
    }

    /**
     * Runs {@code action} on the status reader's thread the first time a status of job {@code id}
     * matches; the future completes with that status.
     */
    CompletableFuture<JobStatus> when(String id, Predicate<JobStatus> condition, Runnable action) {
        CompletableFuture<JobStatus> fired = new CompletableFuture<>();
        AtomicBoolean once = new AtomicBoolean();
        Consumer<JobStatus> check = s -> {
            if (id.equals(s.id()) && s.state() != null && condition.test(s) && once.compareAndSet(false, true)) {
                action.run();
                fired.complete(s);
            }
        };
        Runnable remove = statuses.onUpdate(check);
        fired.whenComplete((s, e) -> remove.run());
        statuses.get(id).ifPresent(check); // the job may already be there
        return fired;
    }

    static Predicate<JobStatus> inState(JobState state) {
        return s -> s.state() == state;
    }

    /** Sampling has started and is not near its end: a kill now loses real work. */
    static Predicate<JobStatus> midSampling(int minStep) {
        return s -> s.state() == JobState.ANIMATING && s.detail() != null && s.detail().get("step") instanceof Number n
                && n.intValue() >= minStep;
    }

    /** The highest sampling step reported for the job so far. */
    int step(String id) {
        return seen.stream().filter(s -> id.equals(s.id()) && s.detail() != null && s.detail().get("step") != null)
                .mapToInt(s -> ((Number) s.detail().get("step")).intValue()).max().orElse(0);
    }

    /** Waits for a terminal state through the API (retrying while the gateway is down). */
    JsonNode awaitEnd(String id, Duration timeout) {
        JsonNode[] last = new JsonNode[1];
        try {
            await().atMost(timeout).pollInterval(Duration.ofMillis(500)).ignoreExceptions().until(() -> {
                last[0] = api.status(id);
                return SoakCommand.TERMINAL.contains(last[0].get("state").asText());
            });
        } catch (ConditionTimeoutException e) {
            // CI keeps only the end of the output: say here what the services did with the job
            throw new AssertionError("job " + id + " did not end within " + timeout + "; last status " + last[0]
                    + "\n" + logLinesAbout(id), e);
        }
        return last[0];
    }

    /** The last lines of every service's log that mention the text, for a failure message. */
    String logLinesAbout(String text) {
        StringBuilder out = new StringBuilder();
        for (String service : List.of("gateway", "pose-extractor", "animator", "animator-2", "encoder")) {
            try {
                Path log = stack.logFile(service);
                if (Files.exists(log)) {
                    List<String> lines = Files.readAllLines(log).stream().filter(l -> l.contains(text)).toList();
                    lines.subList(Math.max(0, lines.size() - 15), lines.size())
                            .forEach(l -> out.append(service).append(": ").append(l, 0, Math.min(l.length(), 400))
                                    .append('\n'));
                }
            } catch (Exception e) {
                out.append(service).append(": log unreadable (").append(e).append(")\n");
            }
        }
        return out.toString();
    }

    /**
     * The job ended SUCCEEDED with exactly one set of results: every JobCompleted for it names the
     * same outputs, they are all in the bucket, and the bucket holds no other output objects.
     */
    ResultAudit.Verdict assertSucceededOnce(String id, Duration timeout) {
        JsonNode end = awaitEnd(id, timeout);
        assertThat(end.get("state").asText()).as(end.toString()).isEqualTo("SUCCEEDED");
        ResultAudit.Verdict[] v = new ResultAudit.Verdict[1];
        // the JobCompleted record and the SUCCEEDED status are sent together: allow for the order
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
            v[0] = ResultAudit.check(store, id, ResultAudit.completions(stack.config()).get(id));
            assertThat(v[0].missing()).as(v[0].toString()).isFalse();
        });
        assertThat(v[0].duplicated()).as(v[0].toString()).isFalse();
        assertThat(v[0].distinctOutputs()).hasSize(1);
        assertThat(v[0].objects()).contains("jobs/" + id + "/outputs/result.mp4");
        return v[0];
    }

    /** Whether a service's log (all its incarnations) mentions the text. */
    boolean logMentions(String service, String text) throws Exception {
        Path log = stack.logFile(service);
        return Files.exists(log) && Files.readString(log).contains(text);
    }

    /** Closes the stack; its service logs are kept under launcher/target/drill-logs/{name}/ for CI. */
    void close(String name) {
        try {
            close();
        } finally {
            try {
                Path keep = TestPaths.repoRoot().resolve("launcher/target/drill-logs").resolve(name);
                Files.createDirectories(keep);
                try (var logs = Files.list(data.resolve("logs"))) {
                    for (Path f : logs.toList()) {
                        Files.copy(f, keep.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
                    }
                }
            } catch (Exception e) {
                // logs are a help, not a result
            }
            BenchCommand.deleteQuietly(data);
        }
    }

    @Override
    public void close() {
        statuses.close();
        store.close();
        stack.close();
    }
}
