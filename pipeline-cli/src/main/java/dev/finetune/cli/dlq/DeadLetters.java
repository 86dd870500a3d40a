package dev.finetune.cli.dlq;

import dev.finetune.events.EventCatalog;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Reads dead-letter topics and puts their records back where they came from, with plain Kafka
 * clients and no consumer group (nothing is committed: reading never changes what a service sees).
 *
 * <p>Every consumer's dead-letter topic is {@code <topic>.dlq.<consumer>}. SmallRye's dead-letter
 * queue keeps the original key, value and headers and adds its own {@code dead-letter-*} headers:
 * the reason, the exception, and the source topic, partition and offset. A replay publishes the
 * original key, value and headers, without those, to the source topic.
 *
 * <p>The value is the original bytes for a record that could not be decoded. A record that was
 * decoded and then refused for its headers (no CloudEvents headers, or a {@code ce_type} that is
 * not its topic's) holds the event as the service decoded it, written again as JSON: the same
 * fields and values, not necessarily the same bytes. Such a record is not replayed: its headers
 * would be refused again by every consumer, and no fix on the consumer's side changes that.
 */
final class DeadLetters implements AutoCloseable {
    static final Pattern DEAD_LETTER_TOPIC = Pattern.compile(".+\\.dlq\\..+");
    static final String SOURCE_TOPIC = "dead-letter-topic";
    static final String REASON = "dead-letter-reason";
    /** Headers the dead-letter queue and SmallRye's deserialization-failure handler add: not the sender's. */
    private static final List<String> ADDED_HEADER_PREFIXES = List.of("dead-letter-", "deserialization-failure-");

    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private final String bootstrapServers;
    private final KafkaConsumer<byte[], byte[]> consumer;

    DeadLetters(String bootstrapServers) {
        this.bootstrapServers = bootstrapServers;
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        // Looking a topic up must not create it (brokers that auto-create topics would).
        props.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
        props.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) TIMEOUT.toMillis());
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        consumer = new KafkaConsumer<>(props);
    }

    /** Every record of {@code topic}, by partition and offset. */
    List<ConsumerRecord<byte[], byte[]>> all(String topic) {
        List<TopicPartition> partitions = partitions(topic);
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
        List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(
                        "reading " + topic + " from " + bootstrapServers + " took over " + TIMEOUT);
            }
            consumer.poll(Duration.ofMillis(500)).forEach(records::add);
        }
        records.sort(Comparator.<ConsumerRecord<byte[], byte[]>>comparingInt(ConsumerRecord::partition)
                .thenComparingLong(ConsumerRecord::offset));
        return records;
    }

    /** The record at {@code offset} of {@code partition}; an error names what the partition holds. */
    ConsumerRecord<byte[], byte[]> at(String topic, int partition, long offset) {
        List<TopicPartition> partitions = partitions(topic);
        TopicPartition tp = new TopicPartition(topic, partition);
        if (!partitions.contains(tp)) {
            throw new IllegalArgumentException(
                    "--partition " + partition + ": " + topic + " has partitions 0 to " + (partitions.size() - 1));
        }
        consumer.assign(List.of(tp));
        long first = consumer.beginningOffsets(List.of(tp)).get(tp);
        long end = consumer.endOffsets(List.of(tp)).get(tp);
        if (offset < first || offset >= end) {
            throw new IllegalArgumentException("offset " + offset + ": partition " + partition + " of " + topic
                    + (first == end ? " is empty" : " holds offsets " + first + " to " + (end - 1)));
        }
        consumer.seek(tp, offset);
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(500))) {
                if (record.offset() == offset) {
                    return record;
                }
                if (record.offset() > offset) {
                    throw new IllegalArgumentException("offset " + offset + " of " + topic + " partition " + partition
                            + " no longer holds a record (compacted or a transaction marker)");
                }
            }
        }
        throw new IllegalStateException("reading offset " + offset + " of " + topic + " took over " + TIMEOUT);
    }

    /** Where a replay sends {@code record}: the topic it was dead-lettered from. */
    static String sourceTopic(String topic, ConsumerRecord<byte[], byte[]> record) {
        return header(record, SOURCE_TOPIC)
                .filter(t -> !t.isBlank())
                .orElseThrow(() -> new IllegalArgumentException("offset " + record.offset() + " of " + topic
                        + " has no " + SOURCE_TOPIC + " header: the topic it came from is unknown, so it is not"
                        + " replayed"));
    }

    /** CloudEvents headers in binary mode that every consumer requires ({@code EventProcessing}). */
    private static final List<String> CLOUD_EVENT_HEADERS = List.of("ce_specversion", "ce_id", "ce_type", "ce_source");

    /**
     * Refuses {@code record} if the consumers of {@code source} would refuse it again for its
     * headers alone: a replay is for records whose cause was fixed after they were dead-lettered,
     * and a record without CloudEvents headers, or of another type than its topic's, must be
     * published again by its producer, correctly.
     */
    static void requireReplayable(String topic, String source, ConsumerRecord<byte[], byte[]> record) {
        List<String> missing = CLOUD_EVENT_HEADERS.stream()
                .filter(h -> header(record, h).isEmpty())
                .toList();
        String refused = "offset " + record.offset() + " of " + topic + " is not replayed: ";
        if (!missing.isEmpty()) {
            throw new IllegalArgumentException(refused + "it has no " + String.join(", ", missing)
                    + " header, so " + source + "'s consumers would refuse it again; publish it again from its"
                    + " producer as a CloudEvent");
        }
        String type = header(record, "ce_type").orElseThrow();
        List<String> topicTypes = EventCatalog.ALL.stream()
                .filter(e -> e.topic().equals(source))
                .map(EventCatalog.Entry::type)
                .toList();
        if (!topicTypes.isEmpty() && !topicTypes.contains(type)) {
            throw new IllegalArgumentException(refused + "its ce_type '" + type + "' is not " + source + "'s type '"
                    + String.join("', '", topicTypes) + "', so its consumers would refuse it again; publish it"
                    + " again from its producer with the right type");
        }
    }

    /**
     * Publishes the original key, value and headers (without the dead-letter ones) to the source
     * topic, waiting for the broker's acknowledgement.
     */
    static RecordMetadata replay(String bootstrapServers, String source, ConsumerRecord<byte[], byte[]> record) {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, (int) TIMEOUT.toMillis());
        ProducerRecord<byte[], byte[]> copy = new ProducerRecord<>(source, record.key(), record.value());
        for (Header header : record.headers()) {
            if (ADDED_HEADER_PREFIXES.stream().noneMatch(header.key()::startsWith)) {
                copy.headers().add(header);
            }
        }
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props)) {
            return producer.send(copy).get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException(
                    "cannot publish to " + source + " at " + bootstrapServers + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while publishing to " + source, e);
        }
    }

    /** A header's last value as text, if the record has it. */
    static Optional<String> header(ConsumerRecord<byte[], byte[]> record, String name) {
        Header header = record.headers().lastHeader(name);
        return header == null || header.value() == null
                ? Optional.empty()
                : Optional.of(new String(header.value(), StandardCharsets.UTF_8));
    }

    /** The topic's partitions; an error names the dead-letter topics there are when it does not exist. */
    private List<TopicPartition> partitions(String topic) {
        if (!DEAD_LETTER_TOPIC.matcher(topic).matches()) {
            throw new IllegalArgumentException("TOPIC must be a dead-letter topic named <topic>.dlq.<consumer>"
                    + " (e.g. datasets.prepared.dlq.training-service), got '" + topic + "'");
        }
        List<PartitionInfo> infos = consumer.partitionsFor(topic);
        if (infos == null || infos.isEmpty()) {
            Set<String> known = new TreeSet<>();
            consumer.listTopics().keySet().stream()
                    .filter(t -> DEAD_LETTER_TOPIC.matcher(t).matches())
                    .forEach(known::add);
            throw new IllegalArgumentException("no topic '" + topic + "' at " + bootstrapServers
                    + (known.isEmpty() ? "; it has no dead-letter topics" : "; its dead-letter topics: " + known));
        }
        return infos.stream()
                .map(p -> new TopicPartition(topic, p.partition()))
                .sorted(Comparator.comparingInt(TopicPartition::partition))
                .toList();
    }

    @Override
    public void close() {
        consumer.close(Duration.ofSeconds(2));
    }
}
