package dev.finetune.service.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.eclipse.microprofile.config.ConfigProvider;

/**
 * Test access to the real broker for every service's tests: publish CloudEvents in Kafka binary mode
 * as upstream systems and other services do, and read what a service published.
 */
public final class EventTopics {
    private static final ObjectMapper JSON = new ObjectMapper();

    private EventTopics() {}

    public static String bootstrap() {
        return ConfigProvider.getConfig().getValue("kafka.bootstrap.servers", String.class);
    }

    /** Publishes a CloudEvent in Kafka binary mode (ce_* headers, JSON data). */
    public static void publishCloudEvent(String topic, String key, String id, String type, String json)
            throws Exception {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(props)) {
            ProducerRecord<String, String> record = new ProducerRecord<>(topic, key, json);
            record.headers().add("ce_specversion", bytes("1.0"));
            record.headers().add("ce_id", bytes(id));
            record.headers().add("ce_type", bytes(type));
            record.headers().add("ce_source", bytes("/finetune/test"));
            record.headers().add("ce_subject", bytes(key));
            record.headers().add("content-type", bytes("application/json"));
            producer.send(record).get();
        }
    }

    /**
     * Every record on the topic so far whose JSON value matches, waiting up to {@code timeout} for at
     * least {@code min}, then 2 s more for any duplicate right behind.
     */
    public static List<Received> read(String topic, Predicate<JsonNode> filter, int min, Duration timeout)
            throws Exception {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
        props.put(ConsumerConfig.GROUP_ID_CONFIG, "test-reader-" + UUID.randomUUID());
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        List<Received> found = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props)) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + timeout.toNanos();
            long quietUntil = 0;
            while (System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    JsonNode value = JSON.readTree(r.value());
                    if (filter.test(value)) {
                        Map<String, String> headers = new HashMap<>();
                        for (Header h : r.headers()) {
                            headers.put(h.key(), new String(h.value(), StandardCharsets.UTF_8));
                        }
                        found.add(new Received(r.key(), value, headers));
                    }
                }
                if (found.size() >= min) {
                    if (quietUntil == 0) {
                        quietUntil = System.nanoTime() + Duration.ofSeconds(2).toNanos();
                    } else if (System.nanoTime() > quietUntil) {
                        break;
                    }
                }
            }
        }
        return found;
    }

    /** The registry events about one model, in order. */
    public record Received(String key, JsonNode value, Map<String, String> headers) {}

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
