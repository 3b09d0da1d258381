package io.xdyna.animator.queue;

import static org.assertj.core.api.Assertions.assertThat;

import io.xdyna.contract.job.ErrorCode;
import io.xdyna.contract.job.JobState;
import io.xdyna.shared.config.CommonConfig;
import io.xdyna.shared.kafka.EventPublisher;
import io.xdyna.shared.stage.AttemptLedger;
import io.xdyna.shared.stage.Stage;
import io.xdyna.shared.storage.ObjectStore;
import io.xdyna.shared.testing.TestEnvironments;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The lease protocol on a real S3 server and broker, with a clock the test moves: one runner per job
 * whatever the order of claims, heartbeats, requeues and expiries; an abandoned job requeued with its
 * record; a slow runner takes back a lease a reaper requeued.
 */
class JobLeasesIT {
    private static final Duration TTL = Duration.ofSeconds(3);
    private static final byte[] RECORD = "{\"id\":\"job-1\"}".getBytes(StandardCharsets.UTF_8);

    private CommonConfig c;
    private ObjectStore store;
    private EventPublisher publisher;
    private final AtomicLong now = new AtomicLong(1_000_000);

    @BeforeEach
    void setUp() {
        c = TestEnvironments.newEnvironment("leases");
        store = new ObjectStore(c);
        publisher = new EventPublisher(c.kafkaBootstrap(), "it");
    }

    @AfterEach
    void tearDown() {
        publisher.close();
        store.close();
    }

    private JobLeases animator(String name) {
        return new JobLeases(store, publisher, c.topics().conditions(), name, TTL, Duration.ofMillis(200), now::get);
    }

    @Test
    @DisplayName("a live lease keeps the job: a second claim is HELD_ELSEWHERE; once it expires the job can be claimed again")
    void liveLeaseKeepsTheJob() throws Exception {
        JobLeases a = animator("a");
        JobLeases b = animator("b");
        JobLeases.Claim first = a.claim("job-1", "t", RECORD, null);
        assertThat(first.outcome()).isEqualTo(JobLeases.Outcome.CLAIMED);
        assertThat(first.lease().samplings()).isEqualTo(1);
        assertThat(b.claim("job-1", "t", RECORD, null).outcome()).isEqualTo(JobLeases.Outcome.HELD_ELSEWHERE);
        now.addAndGet(TTL.toMillis() - 1);
        assertThat(a.heartbeat(first.lease(), "step 1")).isTrue();
        now.addAndGet(TTL.toMillis() - 1); // renewed: still live
        assertThat(b.claim("job-1", "t", RECORD, null).outcome()).isEqualTo(JobLeases.Outcome.HELD_ELSEWHERE);
        now.addAndGet(2); // past the ttl since the last heartbeat: abandoned
        JobLeases.Claim second = b.claim("job-1", "t", RECORD, null);
        assertThat(second.outcome()).isEqualTo(JobLeases.Outcome.CLAIMED);
        assertThat(second.lease().samplings()).as("the second sampling of the job").isEqualTo(2);
        assertThat(a.heartbeat(first.lease(), "step 2")).as("the old runner finds another's token and stops").isFalse();
        assertThat(b.heartbeat(second.lease(), "step 1")).isTrue();
        a.release(first.lease());
        assertThat(a.read("job-1")).as("a runner that lost the job does not delete the new runner's lease").isPresent();
        b.release(second.lease());
        assertThat(b.read("job-1")).isEmpty();
    }

    @Test
    @DisplayName("claims racing on one job: after one heartbeat round exactly one runner goes on")
    void racingClaimsLeaveOneRunner() throws Exception {
        for (int round = 0; round < 5; round++) {
            String id = "race-" + round;
            List<JobLeases> animators = List.of(animator("a"), animator("b"), animator("c"), animator("d"));
            ExecutorService pool = Executors.newFixedThreadPool(animators.size());
            try {
                List<Future<JobLeases.Claim>> claims = new ArrayList<>();
                for (JobLeases l : animators) {
                    claims.add(pool.submit((Callable<JobLeases.Claim>) () -> l.claim(id, "t", RECORD, null)));
                }
                int goOn = 0;
                int claimed = 0;
                for (int i = 0; i < claims.size(); i++) {
                    JobLeases.Claim cl = claims.get(i).get();
                    if (cl.outcome() == JobLeases.Outcome.CLAIMED) {
                        claimed++;
                        if (animators.get(i).heartbeat(cl.lease(), "running")) {
                            goOn++;
                        }
                    }
                }
                assertThat(claimed).as("round %d: at least one claim wins", round).isGreaterThanOrEqualTo(1);
                assertThat(goOn).as("round %d: runners left after a heartbeat", round).isEqualTo(1);
            } finally {
                pool.shutdownNow();
            }
        }
    }

    @Test
    @DisplayName("an abandoned lease is requeued with its record and cause; the slow runner that comes back takes it back")
    void abandonedLeaseIsRequeued() throws Exception {
        JobLeases a = animator("a");
        JobLeases.Claim claim = a.claim("job-1", "t", RECORD, "00-0123456789abcdef0123456789abcdef-0123456789abcdef-01");
        AttemptLedger ledger = new AttemptLedger(store, Stage.ANIMATE);
        ledger.begin("job-1", ledger.read("job-1"));
        JobLeases reaperSide = animator("r");
        try (LeaseReaper reaper = new LeaseReaper(reaperSide, ledger, id -> Optional.of(JobState.ANIMATING))) {
            assertThat(reaper.scan()).as("a live lease is left alone").isZero();
            now.addAndGet(TTL.toMillis() + 1);
            assertThat(reaper.scan()).isEqualTo(1);
            assertThat(reaper.scan()).as("requeued once, not on every pass").isZero();
        }
        JobLease requeued = a.read("job-1").orElseThrow();
        assertThat(requeued.state()).isEqualTo(JobLease.REQUEUED);
        assertThat(requeued.note()).contains("the animator a stopped renewing its lease");
        assertThat(ledger.read("job-1").lastCode()).isEqualTo(ErrorCode.WORKER_LOST.name());
        List<ConsumerRecord<String, byte[]>> copies = readQueue();
        assertThat(copies).hasSize(1);
        assertThat(copies.get(0).key()).isEqualTo("job-1");
        assertThat(copies.get(0).value()).isEqualTo(RECORD);
        assertThat(new String(copies.get(0).headers().lastHeader(JobLeases.REQUEUE_HEADER).value(),
                StandardCharsets.UTF_8)).contains("stopped renewing");
        assertThat(copies.get(0).headers().lastHeader("traceparent")).isNotNull();

        // the runner was only slow: it takes its lease back, and the requeued copy then finds it live
        assertThat(a.heartbeat(claim.lease(), "back")).isTrue();
        assertThat(animator("b").claim("job-1", "t", RECORD, null).outcome())
                .isEqualTo(JobLeases.Outcome.HELD_ELSEWHERE);
    }

    @Test
    @DisplayName("a requeued copy claimed before the slow runner comes back wins: the slow runner stops")
    void copyClaimedFirstWins() throws Exception {
        JobLeases a = animator("a");
        JobLeases.Claim claim = a.claim("job-1", "t", RECORD, null);
        now.addAndGet(TTL.toMillis() + 1);
        a.requeue(a.read("job-1").orElseThrow(), "test");
        JobLeases.Claim copy = animator("b").claim("job-1", "t", RECORD, null);
        assertThat(copy.outcome()).isEqualTo(JobLeases.Outcome.CLAIMED);
        assertThat(a.heartbeat(claim.lease(), "late")).isFalse();
        assertThat(animator("b").heartbeat(copy.lease(), "running")).isTrue();
    }

    @Test
    @DisplayName("a job its runner hands back can be taken at once, before the lease says REQUEUED, and only with"
            + " that runner's token; the runner's late mark never clobbers the new claim")
    void handedBackCopyIsClaimableAtOnce() throws Exception {
        JobLeases a = animator("a");
        JobLeases b = animator("b");
        JobLeases.Claim first = a.claim("job-1", "t", RECORD, null);
        // the copy is on the queue and another animator takes it while a's lease still looks live
        assertThat(b.claim("job-1", "t", RECORD, null, "not-the-token").outcome())
                .as("any other token: the lease is held").isEqualTo(JobLeases.Outcome.HELD_ELSEWHERE);
        JobLeases.Claim taken = b.claim("job-1", "t", RECORD, null, first.lease().token());
        assertThat(taken.outcome()).isEqualTo(JobLeases.Outcome.CLAIMED);
        assertThat(taken.lease().samplings()).isEqualTo(2);
        // a's hand-back finishes after b's claim: its REQUEUED mark must not land on b's lease
        a.handBack(first.lease(), "shut down");
        JobLease now = a.read("job-1").orElseThrow();
        assertThat(now.running()).isTrue();
        assertThat(now.token()).isEqualTo(taken.lease().token());
        assertThat(b.heartbeat(taken.lease(), "running")).isTrue();
        assertThat(a.heartbeat(first.lease(), "late")).as("the runner that handed it back has no claim").isFalse();
        // the copy a put back carries its token, so the queue's taker can tell it from a stray copy
        List<ConsumerRecord<String, byte[]>> queued = readQueue();
        assertThat(queued).hasSize(1);
        assertThat(new String(queued.get(0).headers().lastHeader(JobLeases.RELEASED_TOKEN_HEADER).value(),
                StandardCharsets.UTF_8)).isEqualTo(first.lease().token());
    }

    @Test
    @DisplayName("a hand-back nobody has taken yet leaves the lease REQUEUED; a reaper's copy carries no token")
    void handBackMarksTheLease() throws Exception {
        JobLeases a = animator("a");
        JobLeases.Claim first = a.claim("job-1", "t", RECORD, null);
        a.handBack(first.lease(), "shut down");
        assertThat(a.read("job-1").orElseThrow().running()).isFalse();
        JobLeases.Claim second = a.claim("job-2", "t", RECORD, null);
        now.addAndGet(TTL.toMillis() + 1);
        a.requeue(second.lease(), "abandoned");
        List<ConsumerRecord<String, byte[]>> queued = readQueue();
        assertThat(queued).hasSize(2);
        assertThat(queued.stream().filter(r -> r.headers().lastHeader(JobLeases.RELEASED_TOKEN_HEADER) == null))
                .as("the reaper's copy").hasSize(1);
    }

    @Test
    @DisplayName("the reaper drops the lease of a job that is over, and does nothing while the store was in trouble")
    void reaperDropsFinishedJobsLeases() throws Exception {
        JobLeases a = animator("a");
        a.claim("job-1", "t", RECORD, null);
        try (LeaseReaper reaper = new LeaseReaper(animator("r"), null, id -> Optional.of(JobState.CANCELLED))) {
            assertThat(reaper.scan()).isZero();
        }
        assertThat(a.read("job-1")).isEmpty();
        assertThat(readQueue()).as("nothing requeued for a job that is over").isEmpty();
    }

    private List<ConsumerRecord<String, byte[]>> readQueue() {
        Properties p = new Properties();
        p.put("bootstrap.servers", c.kafkaBootstrap());
        p.put("group.id", "reader-" + System.nanoTime());
        p.put("auto.offset.reset", "earliest");
        p.put("key.deserializer", StringDeserializer.class.getName());
        p.put("value.deserializer", ByteArrayDeserializer.class.getName());
        List<ConsumerRecord<String, byte[]>> out = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(p)) {
            consumer.subscribe(List.of(c.topics().conditions()));
            long end = System.nanoTime() + Duration.ofSeconds(8).toNanos();
            while (System.nanoTime() < end) {
                consumer.poll(Duration.ofMillis(500)).forEach(out::add);
                if (!out.isEmpty() && !consumer.assignment().isEmpty()) {
                    // one more poll to see whether anything else is there
                    consumer.poll(Duration.ofMillis(500)).forEach(out::add);
                    break;
                }
            }
        }
        return out;
    }
}
