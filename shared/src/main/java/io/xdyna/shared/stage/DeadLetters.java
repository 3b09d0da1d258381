package io.xdyna.shared.stage;

import io.xdyna.contract.kafka.Topics;
import io.xdyna.shared.kafka.EventPublisher;
import java.util.LinkedHashMap;
import java.util.Map;

/** Parks a record no stage can process on the dead-letter topic, with the reason in headers. */
public final class DeadLetters {
    public static final String H_CODE = "xdyna-error-code";
    public static final String H_MESSAGE = "xdyna-error-message";
    public static final String H_TOPIC = "xdyna-source-topic";
    public static final String H_PARTITION = "xdyna-source-partition";
    public static final String H_OFFSET = "xdyna-source-offset";
    public static final String H_STAGE = "xdyna-stage";

    private final EventPublisher publisher;
    private final Topics topics;
    private final String stage;

    public DeadLetters(EventPublisher publisher, Topics topics, String stage) {
        this.publisher = publisher;
        this.topics = topics;
        this.stage = stage;
    }

    public void park(String topic, int partition, long offset, String key, byte[] value, String code, String message) {
        Map<String, String> h = new LinkedHashMap<>();
        h.put(H_CODE, code);
        h.put(H_MESSAGE, message);
        h.put(H_TOPIC, topic);
        h.put(H_PARTITION, Integer.toString(partition));
        h.put(H_OFFSET, Long.toString(offset));
        h.put(H_STAGE, stage);
        publisher.sendRaw(topics.deadLetter(), key, value, h);
    }
}
