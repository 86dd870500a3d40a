package dev.finetune.service.testing;

import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
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

/**
 * Poison for a topic, and what its consumer dead-lettered, on a broker named by its address: for
 * tests that run services as processes (a restart is a new process), where there is no Quarkus
 * configuration to read the broker from ({@link EventTopics} reads it there).
 */
public final class PoisonRecords {
    /** Not UTF-8, not JSON: what a producer with the wrong serializer (or a bit flip) leaves. */
    private static final byte[] GARBAGE = {0, (byte) 0xff, (byte) 0xfe, 'n', 'o', 't', ' ', 'j', 's', 'o', 'n'};

    /** How many records {@link #publishPoison} publishes. */
    public static final int KINDS = 3;

    private final String bootstrap;

    public PoisonRecords(String bootstrap) {
        this.bootstrap = bootstrap;
    }

    /**
     * Publishes the three kinds of poison keyed {@code key}: undecodable bytes of the topic's type,
     * a valid event without CloudEvents headers, and a valid event of an unknown ce_type.
     */
    public void publishPoison(String topic, String key, String type, String validJson) throws Exception {
        byte[] valid = validJson.getBytes(StandardCharsets.UTF_8);
        publish(topic, key, GARBAGE, cloudEvent(type, key));
        publish(topic, key, valid, Map.of());
        publish(topic, key, valid, cloudEvent("dev.finetune.no-such.event.v1", key));
    }

    /**
     * Publishes a valid event of {@code type} keyed {@code key}, with fresh CloudEvents headers, and
     * returns where it landed.
     */
    public RecordMetadata publishEvent(String topic, String key, String type, String json) throws Exception {
        return publish(topic, key, json.getBytes(StandardCharsets.UTF_8), cloudEvent(type, key));
    }

    /**
     * Waits until consumer group {@code group} has committed past {@code record} of {@code topic}:
     * the record and everything before it on its partition have been handled.
     */
    public void awaitCommittedPast(String group, String topic, RecordMetadata record) {
        TopicPartition partition = new TopicPartition(topic, record.partition());
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            await().atMost(Duration.ofMinutes(2))
                    .pollInterval(Duration.ofMillis(500))
                    .until(() -> {
                        OffsetAndMetadata committed = admin.listConsumerGroupOffsets(group)
                                .partitionsToOffsetAndMetadata()
                                .get()
                                .get(partition);
                        return committed != null && committed.offset() > record.offset();
                    });
        }
    }

    /**
     * The reasons of the records keyed {@code key} on {@code deadLetterTopic} that came from {@code
     * topic}, read until nothing more arrives for a while (by then they are all there).
     */
    public List<String> deadLettered(String deadLetterTopic, String topic, String key) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ConsumerConfig.GROUP_ID_CONFIG, "poison-check-" + UUID.randomUUID());
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        List<String> reasons = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(props)) {
            consumer.subscribe(List.of(deadLetterTopic));
            long quietUntil = System.nanoTime() + Duration.ofSeconds(8).toNanos();
            while (System.nanoTime() < quietUntil) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    quietUntil = System.nanoTime() + Duration.ofSeconds(3).toNanos();
                    if (key.equals(r.key()) && topic.equals(header(r, "dead-letter-topic"))) {
                        reasons.add(header(r, "dead-letter-reason"));
                    }
                }
            }
        }
        return reasons;
    }

    private static String header(ConsumerRecord<String, byte[]> record, String name) {
        Header header = record.headers().lastHeader(name);
        return header == null || header.value() == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }

    private static Map<String, String> cloudEvent(String type, String subject) {
        return Map.of(
                "ce_specversion",
                "1.0",
                "ce_id",
                UUID.randomUUID().toString(),
                "ce_type",
                type,
                "ce_source",
                "/finetune/test",
                "ce_subject",
                subject,
                "content-type",
                "application/json");
    }

    private RecordMetadata publish(String topic, String key, byte[] value, Map<String, String> headers)
            throws Exception {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(props)) {
            ProducerRecord<String, byte[]> record = new ProducerRecord<>(topic, key, value);
            headers.forEach((name, text) -> record.headers().add(name, text.getBytes(StandardCharsets.UTF_8)));
            return producer.send(record).get();
        }
    }
}
