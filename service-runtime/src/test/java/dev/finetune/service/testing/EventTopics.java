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
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
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

    /** The CloudEvents headers of an event of {@code type} in Kafka binary mode. */
    public static Map<String, String> cloudEventHeaders(String id, String type, String subject) {
        return Map.of(
                "ce_specversion",
                "1.0",
                "ce_id",
                id,
                "ce_type",
                type,
                "ce_source",
                "/finetune/test",
                "ce_subject",
                subject,
                "content-type",
                "application/json");
    }

    /**
     * Publishes any bytes with any headers, as a broken or hostile producer might, and returns where
     * the record landed (its partition and offset).
     */
    public static RecordMetadata publishRaw(String topic, String key, byte[] value, Map<String, String> headers)
            throws Exception {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(props)) {
            ProducerRecord<String, byte[]> record = new ProducerRecord<>(topic, key, value);
            headers.forEach((name, text) -> record.headers().add(name, bytes(text)));
            return producer.send(record).get();
        }
    }

    /**
     * Every record on the topic so far with this key, values as bytes, waiting up to {@code timeout}
     * for at least {@code min}, then 2 s more for any record right behind.
     */
    public static List<RawRecord> readRaw(String topic, String key, int min, Duration timeout) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
        props.put(ConsumerConfig.GROUP_ID_CONFIG, "test-reader-" + UUID.randomUUID());
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        List<RawRecord> found = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(props)) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + timeout.toNanos();
            long quietUntil = 0;
            while (System.nanoTime() < deadline) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    if (key.equals(r.key())) {
                        Map<String, byte[]> headers = new HashMap<>();
                        for (Header h : r.headers()) {
                            headers.put(h.key(), h.value());
                        }
                        found.add(new RawRecord(r.key(), r.value(), headers, r.partition(), r.offset()));
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

    /** The offset a consumer group will resume {@code partition} of {@code topic} from; -1 if none. */
    public static long committedOffset(String group, String topic, int partition) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap()))) {
            TopicPartition tp = new TopicPartition(topic, partition);
            OffsetAndMetadata committed = admin.listConsumerGroupOffsets(group)
                    .partitionsToOffsetAndMetadata()
                    .get()
                    .get(tp);
            return committed == null ? -1 : committed.offset();
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
                    JsonNode value = jsonOrNull(r.value());
                    if (value != null && filter.test(value)) {
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

    /** A record read back with its JSON value. */
    public record Received(String key, JsonNode value, Map<String, String> headers) {}

    /** A record read back as bytes, with its offset. */
    public record RawRecord(String key, byte[] value, Map<String, byte[]> headers, int partition, long offset) {
        public String header(String name) {
            byte[] v = headers.get(name);
            return v == null ? null : new String(v, StandardCharsets.UTF_8);
        }
    }

    /** The value as JSON; null for the poison records the fault tests put on topics and dead-letter topics. */
    private static JsonNode jsonOrNull(String value) {
        if (value == null) {
            return null;
        }
        try {
            return JSON.readTree(value);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            return null;
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
