package dev.finetune.cli.run;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Reads every dead-letter topic ({@code <topic>.dlq.<group>}) while a run goes on: an event a service
 * gave up on stops the run at once with the service's reason, instead of a stage waiting for a
 * result that will never come.
 */
final class DeadLetterWatch implements AutoCloseable {
    private static final Pattern DEAD_LETTER_TOPICS = Pattern.compile(".+\\.dlq\\..+");

    /** One dead-lettered event: where it was headed, its key, and the reason the consumer gave. */
    record DeadLetter(String topic, String key, String reason) {
        @Override
        public String toString() {
            return "an event for '" + key + "' was dead-lettered to " + topic + ": " + reason;
        }
    }

    private final KafkaConsumer<String, String> consumer;
    private final Thread thread;
    private final List<DeadLetter> seen = new CopyOnWriteArrayList<>();

    private final long sinceMillis;

    /** Watches for events dead-lettered at or after {@code since} (earlier ones belong to earlier runs). */
    DeadLetterWatch(String bootstrapServers, java.time.Instant since) {
        this.sinceMillis = since.toEpochMilli();
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(ConsumerConfig.GROUP_ID_CONFIG, "finetune-run-" + UUID.randomUUID());
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        // New dead-letter topics are created on first use; find them within a second.
        props.put(ConsumerConfig.METADATA_MAX_AGE_CONFIG, 1000);
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        consumer = new KafkaConsumer<>(props);
        thread = new Thread(this::poll, "dead-letter-watch");
        thread.setDaemon(true);
        thread.start();
    }

    Optional<DeadLetter> first() {
        return seen.stream().findFirst();
    }

    private void poll() {
        try {
            consumer.subscribe(DEAD_LETTER_TOPICS);
            while (true) {
                for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(500))) {
                    if (record.timestamp() < sinceMillis) {
                        continue;
                    }
                    seen.add(new DeadLetter(record.topic(), record.key(), reason(record)));
                }
            }
        } catch (WakeupException e) {
            // closing
        } finally {
            consumer.close(Duration.ofSeconds(2));
        }
    }

    /** SmallRye's dead-letter queue puts the failure in the {@code dead-letter-reason} header. */
    private static String reason(ConsumerRecord<String, String> record) {
        Header header = record.headers().lastHeader("dead-letter-reason");
        return header == null ? "(no reason recorded)" : new String(header.value(), StandardCharsets.UTF_8);
    }

    @Override
    public void close() throws InterruptedException {
        consumer.wakeup();
        thread.join(5000);
    }
}
