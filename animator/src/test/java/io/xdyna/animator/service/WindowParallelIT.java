package io.xdyna.animator.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.xdyna.animator.pipeline.RgbImage;
import io.xdyna.animator.support.Conditions;
import io.xdyna.animator.support.TestBundles;
import io.xdyna.contract.event.ConditionsReady;
import io.xdyna.contract.event.JobStatus;
import io.xdyna.contract.job.JobLifecycle;
import io.xdyna.contract.job.JobParams;
import io.xdyna.contract.job.JobState;
import io.xdyna.contract.storage.StorageLayout;
import io.xdyna.shared.config.CommonConfig;
import io.xdyna.shared.kafka.EventPublisher;
import io.xdyna.shared.stage.JobStatusLog;
import io.xdyna.shared.storage.ObjectStore;
import io.xdyna.shared.testing.TestEnvironments;
import io.xdyna.testkit.JavaProcess;
import io.xdyna.testkit.Ports;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.Arrays;

/**
 * Window-parallel sampling across animator processes on the real broker and store (issue 14): one job's
 * window batches computed by an idle animator give the same frames, bit for bit, as the job on one
 * animator with the same window batch; a helper SIGKILLed in the middle of a task, a coordinator SIGKILLed
 * mid-sampling and a cancellation each leave the frames (or the job) as they must be.
 *
 * <p>The animators run as their own JVMs. Helpers wait {@value #TASK_DELAY_MS} ms after claiming a task
 * ({@code XDYNA_DRILL_TASK_DELAY_MS}), so that a kill lands in the middle of one, and coordinators leave
 * offered batches to helpers for up to 15 s ({@code XDYNA_SPLIT_CLAIM_WAIT}), so that the helpers do get
 * work from jobs this small.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class WindowParallelIT {
    static final int W = 128;
    static final int H = 192;
    static final int FRAMES = 40; // 4 context windows per step
    static final int STEPS = 6;
    static final long TASK_DELAY_MS = 1000;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path logs = Path.of("target", "window-parallel-logs");
    private final HttpClient http = HttpClient.newHttpClient();
    private final List<Animator> animators = new ArrayList<>();
    private final List<JobStatus> seen = new CopyOnWriteArrayList<>();
    private CommonConfig c;
    private ObjectStore store;
    private JobStatusLog statuses;
    private EventPublisher publisher;
    private List<RgbImage> soloFrames;
    private int started;

    /** An animator process and its management port. */
    record Animator(String name, Process process, int port) {
        boolean owns(String leaseOwner) {
            return leaseOwner != null && leaseOwner.contains("-" + process.pid() + "-");
        }
    }

    @BeforeAll
    void startInfrastructure() throws Exception {
        Files.createDirectories(logs);
        c = TestEnvironments.newEnvironment("split");
        store = new ObjectStore(c);
        statuses = new JobStatusLog(c.kafkaBootstrap(), c.topics().status(), "it");
        statuses.onUpdate(seen::add);
        statuses.start();
        publisher = new EventPublisher(c.kafkaBootstrap(), "it");
    }

    @AfterAll
    void stopAll() throws Exception {
        for (Animator a : animators) {
            JavaProcess.kill(a.process());
        }
        publisher.close();
        statuses.close();
        store.close();
    }

    @Test
    @Order(1)
    @DisplayName("a job split between a coordinator and an idle animator gives the frames of the same job on one animator")
    void splitJobGivesTheSameFrames() throws Exception {
        Animator first = start();
        // alone: nobody is idle, so the coordinator computes every batch
        soloFrames = run("solo");
        assertThat(metric(first, "xdyna_animator_split_batches_total", "by", "offered")).isZero();

        Animator second = start();
        awaitIdle(2);
        List<RgbImage> split = run("split");
        assertThat(sameFrames(split, soloFrames)).as("frames of the split job, bit for bit").isTrue();
        assertThat(sum("xdyna_animator_split_batches_total", "by", "helper"))
                .as("batches the coordinator took from its helper").isGreaterThan(0);
        assertThat(sum("xdyna_animator_helper_tasks_total", "outcome", "done")).isGreaterThan(0);
        assertThat(store.list(StorageLayout.splitPrefix("split"))).as("split objects left behind").isEmpty();
        assertThat(second.process().isAlive()).isTrue();
    }

    @Test
    @Order(2)
    @DisplayName("a helper SIGKILLed in the middle of a task: the batch is computed again, the frames are the same")
    void killedHelperTaskIsRedone() throws Exception {
        String id = "helper-killed";
        send(id);
        Animator coordinator = coordinatorOf(id);
        Animator helper = otherThan(coordinator);
        awaitClaimBy(id, helper);
        double redoneBefore = metric(coordinator, "xdyna_animator_split_batches_total", "by", "redone");
        kill(helper);
        List<RgbImage> frames = awaitFrames(id);
        assertThat(sameFrames(frames, soloFrames)).as("frames after the helper died, bit for bit").isTrue();
        assertThat(metric(coordinator, "xdyna_animator_split_batches_total", "by", "redone") - redoneBefore)
                .as("batches the coordinator took back from the dead helper").isGreaterThanOrEqualTo(1);
        start();
    }

    @Test
    @Order(3)
    @DisplayName("the coordinator SIGKILLed mid-sampling: the job resumes from its checkpoint elsewhere, same frames")
    void killedCoordinatorJobResumes() throws Exception {
        String id = "coordinator-killed";
        awaitIdle(2);
        send(id);
        Animator coordinator = coordinatorOf(id);
        Animator helper = otherThan(coordinator);
        await().atMost(Duration.ofMinutes(2)).until(() -> step(id) >= 3);
        awaitClaimBy(id, helper); // a helper's task is in flight: its result, if it lands, is for a dead run
        String deadRun = lease(id).map(l -> l.get("token").asText()).orElseThrow();
        kill(coordinator);
        start(); // a fresh animator: helper or new coordinator, whichever takes the requeued job
        List<RgbImage> frames = awaitFrames(id);
        assertThat(sameFrames(frames, soloFrames)).as("frames after the coordinator died, bit for bit").isTrue();
        int resumedFrom = seen.stream().filter(s -> id.equals(s.id()) && s.detail() != null
                && s.detail().get("resumedFromStep") != null)
                .mapToInt(s -> ((Number) s.detail().get("resumedFromStep")).intValue()).max().orElse(0);
        assertThat(resumedFrom).as("resumed from a checkpoint").isGreaterThan(0);
        assertThat(store.list(StorageLayout.splitPrefix(id))).as("nothing of any run left, the dead run's included")
                .noneMatch(k -> !k.contains(deadRun));
    }

    @Test
    @Order(4)
    @DisplayName("cancellation stops the coordinator and its helper's task")
    void cancellationStopsCoordinatorAndHelpers() throws Exception {
        String id = "cancelled";
        awaitIdle(2);
        send(id);
        Animator coordinator = coordinatorOf(id);
        Animator helper = otherThan(coordinator);
        String claim = awaitClaimBy(id, helper);
        String result = claim.replace(".claim", ".pred");
        JobStatus current = statuses.get(id).orElseThrow();
        publisher.send(c.topics().status(), JobLifecycle.cancelled(current, "cancelled by the test"));
        // the coordinator stops at its next window and lets the job go
        await().atMost(Duration.ofSeconds(30)).until(() -> lease(id).isEmpty()
                || !"RUNNING".equals(lease(id).get().get("state").asText()));
        // the helper's task in flight ends without writing its prediction, and nothing is left behind
        await().atMost(Duration.ofSeconds(30)).until(() -> store.list(StorageLayout.splitPrefix(id)).isEmpty());
        Thread.sleep(TASK_DELAY_MS + 1000);
        assertThat(store.exists(result)).as("the helper wrote no prediction for the cancelled job").isFalse();
        assertThat(store.list(StorageLayout.splitPrefix(id))).isEmpty();
        assertThat(store.list(StorageLayout.jobPrefix(id) + "frames/")).isEmpty();
        assertThat(statuses.get(id).map(JobStatus::state)).contains(JobState.CANCELLED);
        assertThat(helper.process().isAlive() && coordinator.process().isAlive()).isTrue();
    }

    // --- the stack ---

    private Animator start() throws IOException {
        String name = "animator-" + (++started);
        int port = Ports.free();
        Map<String, String> env = new HashMap<>(TestEnvironments.env(c));
        env.put("XDYNA_MODEL_DIR", TestBundles.tinyBundle().toString());
        env.put("XDYNA_DEVICE", "cpu");
        env.put("XDYNA_CHECKPOINT_EVERY", "1");
        env.put("XDYNA_WINDOW_BATCH", "2"); // 4 windows: 2 batches per step
        env.put("XDYNA_LOCK_DURATION_MS", "15000");
        env.put("XDYNA_LEASE_TTL", "PT6S");
        env.put("XDYNA_SPLIT", "auto");
        env.put("XDYNA_SPLIT_CLAIM_WAIT", "PT15S");
        env.put("XDYNA_DRILL_TASK_DELAY_MS", Long.toString(TASK_DELAY_MS));
        env.put("XDYNA_MANAGEMENT_PORT", Integer.toString(port));
        // one intra-op thread in every process: the same kernels, whichever process computes a batch
        env.put("OMP_NUM_THREADS", "1");
        Process p = JavaProcess.of("io.xdyna.animator.service.AnimatorMain").env(env).heap("1g")
                .jvmOptions("-Dai.djl.offline=true", "-Dai.djl.pytorch.num_interop_threads=1",
                        "-Dai.djl.pytorch.num_threads=1")
                .logFile(logs.resolve(name + ".log")).dieWithParent(true).start();
        Animator a = new Animator(name, p, port);
        animators.add(a);
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500)).until(() -> ready(a));
        return a;
    }

    private boolean ready(Animator a) {
        try {
            return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + a.port() + "/health/ready"))
                    .build(), HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private void kill(Animator a) {
        JavaProcess.kill(a.process());
        animators.remove(a);
    }

    private List<Animator> alive() {
        return animators.stream().filter(a -> a.process().isAlive()).toList();
    }

    private void awaitIdle(int n) {
        await().atMost(Duration.ofMinutes(1)).until(() -> store.list(StorageLayout.idleAnimatorPrefix()).size() >= n);
    }

    // --- jobs ---

    private void send(String id) {
        Conditions.write(store, id, W, H, FRAMES, true);
        // the same seed, prompts and conditions for every job: the same frames
        JobParams p = new JobParams(W, H, FRAMES, 1, null, STEPS, 7.5, 40L, "", "", true, false);
        publisher.send(c.topics().conditions(), new ConditionsReady(null, id, "default", p, FRAMES, W, H, 30.0, true));
    }

    private List<RgbImage> run(String id) {
        send(id);
        return awaitFrames(id);
    }

    /** The job's frames, once FramesReady was sent (the done marker is written just before it). */
    private List<RgbImage> awaitFrames(String id) {
        await().atMost(Duration.ofMinutes(4)).pollInterval(Duration.ofMillis(500))
                .until(() -> store.exists(StorageLayout.animateDone(id)));
        List<RgbImage> frames = new ArrayList<>();
        for (int i = 0; i < FRAMES; i++) {
            frames.add(RgbImage.decode(store.get(StorageLayout.frame(id, i)), "frame " + i));
        }
        return frames;
    }

    private static boolean sameFrames(List<RgbImage> a, List<RgbImage> b) {
        if (a.size() != b.size()) {
            return false;
        }
        for (int i = 0; i < a.size(); i++) {
            if (!Arrays.equals(a.get(i).rgb(), b.get(i).rgb())) {
                return false;
            }
        }
        return true;
    }

    private Optional<JsonNode> lease(String id) {
        String key = StorageLayout.lease("animator", id);
        try {
            return store.exists(key) ? Optional.of(JSON.readTree(store.get(key))) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private Animator coordinatorOf(String id) {
        await().atMost(Duration.ofMinutes(1)).until(() -> lease(id).map(l -> "RUNNING".equals(l.get("state").asText()))
                .orElse(false));
        String owner = lease(id).orElseThrow().get("owner").asText();
        return alive().stream().filter(a -> a.owns(owner)).findFirst()
                .orElseThrow(() -> new AssertionError("no live animator owns lease " + owner));
    }

    private Animator otherThan(Animator a) {
        return alive().stream().filter(x -> x != a).findFirst().orElseThrow();
    }

    /** Waits for a claim by {@code helper} on one of the job's window batches that has no result yet. */
    private String awaitClaimBy(String id, Animator helper) {
        String[] found = new String[1];
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(100)).until(() -> {
            List<String> keys = store.list(StorageLayout.splitPrefix(id));
            for (String k : keys) {
                if (k.endsWith(".claim") && !keys.contains(k.replace(".claim", ".pred"))) {
                    try {
                        if (helper.owns(JSON.readTree(store.get(k)).get("owner").asText())) {
                            found[0] = k;
                            return true;
                        }
                    } catch (RuntimeException e) {
                        // deleted meanwhile: the step ended
                    }
                }
            }
            return false;
        });
        return found[0];
    }

    private int step(String id) {
        return seen.stream().filter(s -> id.equals(s.id()) && s.detail() != null && s.detail().get("step") != null)
                .mapToInt(s -> ((Number) s.detail().get("step")).intValue()).max().orElse(0);
    }

    // --- metrics ---

    private double sum(String name, String tag, String value) {
        return alive().stream().mapToDouble(a -> metric(a, name, tag, value)).sum();
    }

    private double metric(Animator a, String name, String tag, String value) {
        try {
            String body = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + a.port() + "/metrics"))
                    .build(), HttpResponse.BodyHandlers.ofString()).body();
            Matcher m = Pattern.compile("(?m)^" + name + "\\{[^}]*" + tag + "=\"" + value + "\"[^}]*\\} (\\S+)$")
                    .matcher(body);
            return m.find() ? Double.parseDouble(m.group(1)) : 0;
        } catch (IOException e) {
            return 0;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 0;
        }
    }
}
