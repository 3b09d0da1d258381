package io.xdyna.launcher;

import io.xdyna.contract.event.Events;
import io.xdyna.contract.event.JobCompleted;
import io.xdyna.contract.storage.StorageLayout;
import io.xdyna.shared.config.CommonConfig;
import io.xdyna.shared.kafka.KafkaSetup;
import io.xdyna.shared.storage.ObjectStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;

/**
 * Checks what finished jobs left behind, for failure drills and the soak: the {@code JobCompleted}
 * records on the results topic and the objects under each job's {@code outputs/}. Delivery is at
 * least once, so a job may be completed more than once; it is <em>duplicated</em> when those records
 * name different outputs or when the bucket holds output objects that no record names, and its
 * result is <em>missing</em> when it has no record or a named object is not in the bucket.
 */
final class ResultAudit {
    private ResultAudit() {
    }

    /** One job's verdict. */
    record Verdict(String id, int completions, Set<Map<String, String>> distinctOutputs, Set<String> objects,
            boolean missing, boolean duplicated, String problem) {
    }

    /** Every JobCompleted on the results topic now, by job id; records that do not decode are skipped. */
    static Map<String, List<JobCompleted>> completions(CommonConfig config) {
        Properties p = KafkaSetup.consumer(config.kafkaBootstrap(), null, "result-audit");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 500);
        Map<String, List<JobCompleted>> byId = new HashMap<>();
        try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(p)) {
            List<TopicPartition> parts = c.partitionsFor(config.topics().results(), Duration.ofSeconds(30)).stream()
                    .map(i -> new TopicPartition(i.topic(), i.partition())).toList();
            c.assign(parts);
            c.seekToBeginning(parts);
            Map<TopicPartition, Long> end = c.endOffsets(parts, Duration.ofSeconds(30));
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (parts.stream().anyMatch(tp -> c.position(tp, Duration.ofSeconds(30)) < end.get(tp))) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("could not read the results topic to its end within 60 s");
                }
                for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(500))) {
                    try {
                        JobCompleted done = Events.decode(r.value(), JobCompleted.class);
                        if (done.id() != null) {
                            byId.computeIfAbsent(done.id(), k -> new ArrayList<>()).add(done);
                        }
                    } catch (RuntimeException poison) {
                        // not a JobCompleted (a poison record): no job's result
                    }
                }
            }
        }
        return byId;
    }

    static Verdict check(ObjectStore store, String id, List<JobCompleted> completed) {
        List<JobCompleted> records = completed == null ? List.of() : completed;
        Set<Map<String, String>> distinct = new HashSet<>();
        Set<String> named = new TreeSet<>();
        for (JobCompleted c : records) {
            distinct.add(c.outputs());
            named.addAll(c.outputs().values());
        }
        Set<String> objects = new TreeSet<>(store.list(StorageLayout.jobPrefix(id) + "outputs/"));
        String problem = null;
        boolean missing = false;
        boolean duplicated = false;
        if (records.isEmpty()) {
            missing = true;
            problem = "no JobCompleted on the results topic";
        } else if (!objects.containsAll(named) || !named.contains(StorageLayout.outputResult(id))) {
            missing = true;
            Set<String> absent = new TreeSet<>(named);
            absent.removeAll(objects);
            problem = "result objects missing: " + (named.contains(StorageLayout.outputResult(id)) ? absent
                    : "no result.mp4 named");
        }
        if (distinct.size() > 1) {
            duplicated = true;
            problem = "JobCompleted records name different outputs: " + distinct;
        } else if (!named.isEmpty() && !named.containsAll(objects)) {
            Set<String> extra = new TreeSet<>(objects);
            extra.removeAll(named);
            duplicated = true;
            problem = "output objects that no JobCompleted names: " + extra;
        }
        return new Verdict(id, records.size(), distinct, objects, missing, duplicated, problem);
    }
}
