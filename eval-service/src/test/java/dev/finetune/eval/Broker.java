package dev.finetune.eval;

import com.fasterxml.jackson.databind.JsonNode;
import dev.finetune.events.CheckpointCreated;
import dev.finetune.events.EventJson;
import dev.finetune.events.FineTuneMethod;
import dev.finetune.events.Objective;
import dev.finetune.events.Topics;
import dev.finetune.service.testing.EventTopics;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Properties;
import java.util.function.Predicate;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.eclipse.microprofile.config.ConfigProvider;

/** Test access to the real broker: publish checkpoints as training-service does, read evaluations. */
final class Broker {
    private Broker() {}

    static CheckpointCreated checkpoint(String job, long step, String prefix) {
        return new CheckpointCreated(
                job,
                step,
                step,
                prefix,
                Fixtures.BASE,
                Fixtures.DATASET,
                "1",
                FineTuneMethod.LORA,
                Objective.SFT,
                null,
                null,
                null,
                true,
                Instant.now());
    }

    /** Publishes the event as a binary-mode CloudEvent, in the trace {@code traceparent} names (if not null). */
    static void publish(CheckpointCreated event, String ceId, String traceparent) throws Exception {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(props)) {
            ProducerRecord<String, String> record = new ProducerRecord<>(
                    Topics.CHECKPOINTS_CREATED,
                    event.jobId(),
                    EventJson.mapper().writeValueAsString(event));
            header(record, "ce_specversion", "1.0");
            header(record, "ce_id", ceId);
            header(record, "ce_type", CheckpointCreated.TYPE);
            header(record, "ce_source", "/finetune/training-service");
            header(record, "content-type", "application/json");
            if (traceparent != null) {
                header(record, "traceparent", traceparent);
            }
            producer.send(record).get();
        }
    }

    /** Evaluation events for {@code evaluationId}, waiting up to {@code timeout} for at least {@code min}. */
    static List<EventTopics.Received> evaluations(String evaluationId, int min, Duration timeout) throws Exception {
        return read(
                Topics.EVALUATIONS_COMPLETED,
                v -> evaluationId.equals(v.path("evaluationId").asText()),
                min,
                timeout);
    }

    static List<EventTopics.Received> read(String topic, Predicate<JsonNode> filter, int min, Duration timeout)
            throws Exception {
        List<EventTopics.Received> found = EventTopics.read(topic, filter, min, timeout);
        if (found.size() < min) {
            throw new AssertionError(
                    "expected " + min + " records on " + topic + " within " + timeout + ", got " + found);
        }
        return found;
    }

    private static String bootstrap() {
        return ConfigProvider.getConfig().getValue("kafka.bootstrap.servers", String.class);
    }

    private static void header(ProducerRecord<String, String> record, String key, String value) {
        record.headers().add(key, value.getBytes(StandardCharsets.UTF_8));
    }
}
