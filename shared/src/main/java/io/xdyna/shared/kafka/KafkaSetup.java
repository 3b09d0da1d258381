package io.xdyna.shared.kafka;

import io.xdyna.contract.kafka.Topics;
import io.xdyna.shared.config.ConfigException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The one place that decides how our Kafka clients and topics are configured.
 *
 * <p><b>Secured clusters.</b> Every client also takes the standard Kafka client properties the
 * process environment gives, the way Kafka's own images do: {@code KAFKA_<NAME>} becomes the property
 * {@code <name>} in lower case with {@code _} read as {@code .} (and {@code __} as {@code _}), e.g.
 * {@code KAFKA_SECURITY_PROTOCOL=SASL_SSL}, {@code KAFKA_SASL_MECHANISM=SCRAM-SHA-512},
 * {@code KAFKA_SASL_JAAS_CONFIG=...}, {@code KAFKA_SSL_TRUSTSTORE_LOCATION=/etc/kafka/trust.p12}; and
 * {@code XDYNA_KAFKA_PROPERTIES} may name a client properties file (as Kafka's tools take with
 * {@code --command-config}), which the variables override. Only names Kafka's producer, consumer or
 * admin client define are taken (so {@code KAFKA_HEAP_OPTS} and friends are ignored), each client
 * gets the ones it knows, and the properties our delivery guarantees rest on ({@link #RESERVED}) cannot
 * be changed this way. Values are never logged.
 */
public final class KafkaSetup {
    private static final Logger LOG = LoggerFactory.getLogger(KafkaSetup.class);
    /** A client properties file; its entries are overridden by {@code KAFKA_*} variables. */
    public static final String PROPERTIES_FILE_VARIABLE = "XDYNA_KAFKA_PROPERTIES";
    /** Set by our code, not by the environment: the at-least-once and ordering guarantees depend on them. */
    public static final Set<String> RESERVED = Set.of("bootstrap.servers", "group.id", "client.id",
            "key.serializer", "value.serializer", "key.deserializer", "value.deserializer", "enable.auto.commit",
            "isolation.level", "enable.idempotence", "acks", "max.poll.records", "auto.offset.reset",
            "share.acknowledgement.mode", "share.acquire.mode", "group.instance.id");
    private static volatile Map<String, String> environment;

    private KafkaSetup() {
    }

    /**
     * The client properties an environment gives ({@code XDYNA_KAFKA_PROPERTIES} file, then
     * {@code KAFKA_*} variables), sorted by name.
     *
     * @throws io.xdyna.shared.config.ConfigException when the file cannot be read or a reserved
     *     property is set
     */
    public static Map<String, String> clientProperties(Map<String, String> env) {
        Set<String> known = new HashSet<>(ProducerConfig.configNames());
        known.addAll(ConsumerConfig.configNames());
        known.addAll(AdminClientConfig.configNames());
        Map<String, String> out = new TreeMap<>();
        String file = env.get(PROPERTIES_FILE_VARIABLE);
        if (file != null && !file.isBlank()) {
            Properties p = new Properties();
            try (var in = Files.newBufferedReader(Path.of(file.trim()))) {
                p.load(in);
            } catch (IOException | RuntimeException e) {
                throw new ConfigException(PROPERTIES_FILE_VARIABLE + ": cannot read '"
                        + file + "': " + e.getMessage());
            }
            for (String name : p.stringPropertyNames()) {
                take(out, known, name, p.getProperty(name), PROPERTIES_FILE_VARIABLE + " (" + name + ")");
            }
        }
        for (Map.Entry<String, String> e : new TreeMap<>(env).entrySet()) {
            String var = e.getKey();
            if (!var.startsWith("KAFKA_") || var.equals("KAFKA_BOOTSTRAP_SERVERS")) {
                continue;
            }
            String name = var.substring("KAFKA_".length()).toLowerCase(Locale.ROOT).replace("__", "\0")
                    .replace('_', '.').replace('\0', '_');
            if (known.contains(name)) {
                take(out, known, name, e.getValue(), var);
            }
        }
        return out;
    }

    private static void take(Map<String, String> out, Set<String> known, String name, String value, String source) {
        if (RESERVED.contains(name)) {
            throw new ConfigException(source + " sets " + name + ", which the services set"
                    + " themselves (their delivery guarantees depend on it); remove it");
        }
        if (known.contains(name) && value != null) {
            out.put(name, value.trim());
        }
    }

    /** This process's client properties, read from its environment once. */
    public static Map<String, String> environmentProperties() {
        Map<String, String> m = environment;
        if (m == null) {
            m = clientProperties(System.getenv());
            if (!m.isEmpty()) {
                LOG.info("Kafka client properties from the environment: {} (values not shown)", m.keySet());
            }
            environment = m;
        }
        return m;
    }

    /** Adds this process's environment client properties that a client with {@code names} knows. */
    private static Properties secured(Properties p, Set<String> names) {
        environmentProperties().forEach((k, v) -> {
            if (names.contains(k)) {
                p.put(k, v);
            }
        });
        return p;
    }

    /**
     * Adds the environment's client properties (security protocol, SASL, TLS, ...) to consumer
     * properties built elsewhere, e.g. a share consumer's.
     */
    public static Properties withEnvironment(Properties consumerProperties) {
        return secured(consumerProperties, ConsumerConfig.configNames());
    }

    /** Idempotent, acks=all: a retried send never duplicates or reorders a job's events. */
    public static Properties producer(String bootstrap, String clientId) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.CLIENT_ID_CONFIG, clientId);
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 120_000);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        return secured(p, ProducerConfig.configNames());
    }

    /**
     * A consumer-group member that commits by hand after the job's side effects (at-least-once),
     * one record at a time: jobs are long, and a record taken is a job promised.
     */
    public static Properties consumer(String bootstrap, String groupId, String clientId) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        if (groupId != null) {
            p.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
        }
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 1);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        return secured(p, ConsumerConfig.configNames());
    }

    /**
     * A share-group member (the animators' queue) that acknowledges each record explicitly and is
     * handed one record per poll: an animator takes one job, only while idle.
     */
    public static Properties shareConsumer(String bootstrap, String groupId, String clientId) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
        p.put(ConsumerConfig.SHARE_ACKNOWLEDGEMENT_MODE_CONFIG, "explicit");
        p.put(ConsumerConfig.SHARE_ACQUIRE_MODE_CONFIG, "record_limit");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 1);
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        return withEnvironment(p); // KAFKA_* security settings, as every other client
    }

    public static Admin admin(String bootstrap) {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 30_000);
        return Admin.create(secured(p, AdminClientConfig.configNames()));
    }

    /** Whether the topic exists (false also when the broker cannot say within 30 s). */
    public static boolean topicExists(String bootstrap, String topic) {
        try (Admin admin = admin(bootstrap)) {
            return admin.listTopics().names().get(30, TimeUnit.SECONDS).contains(topic);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (ExecutionException | TimeoutException e) {
            LOG.warn("cannot list topics to look for {}: {}", topic, e.toString());
            return false;
        }
    }

    /**
     * Share groups start at the latest offset unless told otherwise, which would silently skip every
     * job queued before the first consumer joined. Sets {@code share.auto.offset.reset=earliest} (and
     * the acquisition lock duration, if given) on the group; idempotent.
     */
    public static void ensureShareGroup(String bootstrap, String groupId, Integer lockDurationMs) {
        List<AlterConfigOp> ops = new ArrayList<>();
        ops.add(new AlterConfigOp(new ConfigEntry("share.auto.offset.reset", "earliest"), AlterConfigOp.OpType.SET));
        if (lockDurationMs != null) {
            ops.add(new AlterConfigOp(new ConfigEntry("share.record.lock.duration.ms", lockDurationMs.toString()),
                    AlterConfigOp.OpType.SET));
        }
        try (Admin admin = admin(bootstrap)) {
            admin.incrementalAlterConfigs(Map.of(new ConfigResource(ConfigResource.Type.GROUP, groupId), ops)).all()
                    .get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while configuring share group " + groupId, e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("cannot configure share group " + groupId + ": " + e.getCause(),
                    e.getCause());
        }
    }

    /**
     * Partitions of the animators' queue topic (jobs.conditions). Kafka's share-group assignor gives a
     * partition to several members only when members outnumber partitions; otherwise each partition has
     * one member, and a job keyed to a busy animator's partition waits while another animator idles.
     * With one partition every animator is a member of it and the next job goes to whichever is free.
     * Jobs take minutes, so one partition is never the bottleneck.
     */
    public static final int QUEUE_PARTITIONS = 1;

    /**
     * Creates our topics if missing: work topics with {@code partitions} partitions (the animators'
     * queue with {@link #QUEUE_PARTITIONS}), the status topic compacted (latest state per job id survives
     * forever), all at {@code replication}. Warns about a queue topic created earlier with more partitions.
     */
    public static void ensureTopics(String bootstrap, Topics topics, int partitions, short replication) {
        try (Admin admin = admin(bootstrap)) {
            Set<String> existing = admin.listTopics().names().get();
            List<NewTopic> wanted = new ArrayList<>();
            for (String t : List.of(topics.requests(), topics.conditions(), topics.frames(), topics.results(),
                    topics.deadLetter(), topics.animatorTasks())) {
                if (!existing.contains(t)) {
                    boolean queue = t.equals(topics.conditions()) || t.equals(topics.animatorTasks());
                    wanted.add(new NewTopic(t, queue ? QUEUE_PARTITIONS : partitions, replication));
                }
            }
            if (existing.contains(topics.conditions())) {
                int n = admin.describeTopics(List.of(topics.conditions())).allTopicNames().get()
                        .get(topics.conditions()).partitions().size();
                if (n > QUEUE_PARTITIONS) {
                    LOG.warn("topic {} has {} partitions: animators then share it only partly, and a job can wait for a"
                            + " busy animator while another idles; recreate it with {} partition(s)",
                            topics.conditions(), n, QUEUE_PARTITIONS);
                }
            }
            if (!existing.contains(topics.status())) {
                wanted.add(new NewTopic(topics.status(), partitions, replication).configs(Map.of(
                        TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT,
                        TopicConfig.MIN_COMPACTION_LAG_MS_CONFIG, "60000")));
            }
            if (wanted.isEmpty()) {
                return;
            }
            try {
                admin.createTopics(wanted).all().get();
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof TopicExistsException)) {
                    throw e;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating topics", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("cannot create topics on " + bootstrap + ": " + e.getCause(), e.getCause());
        }
    }
}
