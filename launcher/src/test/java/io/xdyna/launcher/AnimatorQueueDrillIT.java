package io.xdyna.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.xdyna.contract.event.JobStatus;
import io.xdyna.contract.job.JobState;
import io.xdyna.contract.storage.StorageLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The animator queue under a backlog of jobs that each last several lock periods, on a real broker
 * and store with two animator processes (the reproduction of issue 12): every job sampled exactly
 * once, none failed unrun, none lost; with an animator SIGKILLed mid-job its job is finished
 * elsewhere; a job whose every attempt dies ends FAILED with the reason.
 *
 * <p>Samplings are counted from the animators' logs ("job X: sampling N starts", one line per claim).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AnimatorQueueDrillIT {
    /** The shortest lock the test broker allows: every job outlasts it many times. */
    static final int LOCK_MS = 1000;
    /** 16 frames, 24 steps: about 10 s of sampling here; at least 4 lock periods on any machine we know. */
    static final String LONG = "{\"width\":128,\"height\":192,\"length\":16,\"stride\":2,\"steps\":24,\"seed\":%d}";
    static final Duration JOB_TIMEOUT = Duration.ofMinutes(8);
    static final Pattern SAMPLING = Pattern.compile("job (\\S+): sampling (\\d+) starts \\(delivery (\\d+),");

    static StackDrills drills;

    @BeforeAll
    static void startStack() throws Exception {
        drills = StackDrills.start(2, Map.of("XDYNA_LOCK_DURATION_MS", Integer.toString(LOCK_MS),
                "XDYNA_LEASE_TTL", "PT3S", "XDYNA_CHECKPOINT_EVERY", "2", "XDYNA_RETRY_BUDGET", "2"));
    }

    @AfterAll
    static void stopStack() {
        if (drills != null) {
            drills.close("AnimatorQueueDrillIT");
        }
    }

    @Test
    @Order(1)
    @DisplayName("a backlog of 6 long jobs on 2 animators: all SUCCEEDED, each sampled exactly once on its first delivery")
    void backlogOfLongJobs() throws Exception {
        List<String> ids = submitSix(1);
        for (String id : ids) {
            drills.assertSucceededOnce(id, JOB_TIMEOUT);
        }
        Map<String, List<int[]>> samplings = samplings();
        for (String id : ids) {
            assertThat(samplings.get(id)).as("samplings of %s", id).hasSize(1);
            assertThat(samplings.get(id).get(0)[1]).as("%s was claimed on its first delivery", id).isEqualTo(1);
            assertThat(samplingSeconds(id)).as("%s sampled for at least 4 lock periods", id)
                    .isGreaterThanOrEqualTo(4.0 * LOCK_MS / 1000);
        }
        // (a claim slower than the 1 s lock may see its ACCEPT refused: the record comes back and that copy is
        // dropped because the lease is live; that is fine, a job sampled twice is not)
        assertThat(animatorLogs()).doesNotContain("DELIVERY_LIMIT").doesNotContain("lease lost");
        System.out.printf("backlog: %s%n", summary(ids, samplings));
    }

    @Test
    @Order(2)
    @DisplayName("the same backlog with an animator SIGKILLed mid-job: its job finishes elsewhere, sampled twice at most")
    void backlogWithAnAnimatorKilled() throws Exception {
        List<String> ids = submitSix(11);
        String victim = ids.get(0);
        drills.when(victim, StackDrills.midSampling(3), () -> { }).get(5, TimeUnit.MINUTES);
        String holder = holderOf(victim, 1);
        ServiceProcess killed = drills.stack.service(holder);
        killed.kill();
        for (String id : ids) {
            drills.assertSucceededOnce(id, JOB_TIMEOUT);
        }
        Map<String, List<int[]>> samplings = samplings();
        assertThat(samplings.get(victim)).as("samplings of the killed job").hasSizeBetween(2, 2);
        for (String id : ids) {
            assertThat(samplings.get(id)).as("samplings of %s", id).hasSizeBetween(1, 2);
        }
        int total = ids.stream().mapToInt(id -> samplings.get(id).size()).sum();
        // the killed one twice; a job the killed animator had just claimed may be the second one sampled twice
        assertThat(total).as("samplings in all").isLessThanOrEqualTo(ids.size() + 2);
        assertThat(drills.seen).as("the killed job resumed from its checkpoint").anyMatch(s -> victim.equals(s.id())
                && s.detail() != null && s.detail().get("resumedFromStep") instanceof Number n && n.intValue() > 0);
        System.out.printf("killed %s while it ran %s: %s%n", holder, victim, summary(ids, samplings));
    }

    @Test
    @Order(3)
    @DisplayName("a job whose animator dies on every attempt ends FAILED with the reason once its retry budget is spent")
    void everyAttemptDies() throws Exception {
        String id = drills.submit(2, LONG.formatted(99));
        for (int attempt = 1; attempt <= 2; attempt++) {
            int n = attempt;
            // the attempt counts once the animator has recorded it in the job's attempt ledger
            await().atMost(JOB_TIMEOUT).pollInterval(Duration.ofMillis(200))
                    .until(() -> holderOf(id, n) != null && attempts(id) >= n);
            drills.stack.service(holderOf(id, n)).kill();
        }
        JsonNode end = drills.awaitEnd(id, JOB_TIMEOUT);
        System.out.println("every attempt died: " + end);
        assertThat(end.get("state").asText()).isEqualTo("FAILED");
        assertThat(end.get("error").get("code").asText()).isEqualTo("RETRY_BUDGET_EXHAUSTED");
        assertThat(end.get("error").get("message").asText()).contains("after 2 attempts")
                .contains("WORKER_LOST").contains("stopped renewing its lease");
    }

    private static List<String> submitSix(int seed) throws Exception {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            ids.add(drills.submit(1 + i % 2, LONG.formatted(seed + i)));
        }
        return ids;
    }

    /** Per job: one {sampling number, delivery} per "sampling N starts" line in either animator's log. */
    private static Map<String, List<int[]>> samplings() throws Exception {
        Map<String, List<int[]>> out = new LinkedHashMap<>();
        Matcher m = SAMPLING.matcher(animatorLogs());
        while (m.find()) {
            out.computeIfAbsent(m.group(1), k -> new ArrayList<>())
                    .add(new int[] {Integer.parseInt(m.group(2)), Integer.parseInt(m.group(3))});
        }
        return out;
    }

    /** The animator whose log says it started sampling {@code n} of the job, or null. */
    private static String holderOf(String id, int n) throws Exception {
        for (String service : List.of("animator", "animator-2")) {
            Path log = drills.stack.logFile(service);
            if (Files.exists(log) && Files.readString(log).contains("job " + id + ": sampling " + n + " starts")) {
                return service;
            }
        }
        return null;
    }

    /** Attempts the animator recorded for the job ({@code jobs/{id}/attempts/animator.json}). */
    private static int attempts(String id) {
        String key = StorageLayout.attempts(id, "animator");
        try {
            return new ObjectMapper().readTree(drills.store.get(key)).get("attempts").asInt();
        } catch (Exception e) {
            return 0;
        }
    }

    private static String animatorLogs() throws Exception {
        StringBuilder sb = new StringBuilder();
        for (String service : List.of("animator", "animator-2")) {
            Path log = drills.stack.logFile(service);
            if (Files.exists(log)) {
                sb.append(Files.readString(log));
            }
        }
        return sb.toString();
    }

    /** Seconds between the job's first and last ANIMATING status. */
    private static double samplingSeconds(String id) {
        List<Instant> t = drills.seen.stream().filter(s -> id.equals(s.id()) && s.state() == JobState.ANIMATING)
                .map(JobStatus::updatedAt).map(Instant::parse).sorted().toList();
        return t.isEmpty() ? 0 : Duration.between(t.get(0), t.get(t.size() - 1)).toMillis() / 1000.0;
    }

    private static String summary(List<String> ids, Map<String, List<int[]>> samplings) {
        StringBuilder sb = new StringBuilder();
        for (String id : ids) {
            sb.append(String.format("%s %s samplings=%d (%.1f s sampling); ", id,
                    drills.statuses.get(id).map(s -> s.state().name()).orElse("?"),
                    samplings.getOrDefault(id, List.of()).size(), samplingSeconds(id)));
        }
        return sb.toString();
    }
}
