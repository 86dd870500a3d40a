package dev.finetune.service.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Metrics;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerInterceptor;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.eclipse.microprofile.config.Config;
import org.eclipse.microprofile.config.ConfigProvider;

/**
 * {@code finetune_kafka_dead_lettered_total{topic,group}}: records written to a dead-letter topic,
 * labelled with the topic they were read from and the group that read them. Counted by the
 * dead-letter producer itself (the shared configuration installs this interceptor on every
 * channel's dead-letter producer, and on nothing else) once the broker has acknowledged the write:
 * so both ways a record gets there are counted, the connector's own (a value that cannot be
 * decoded) and {@code EventProcessing}'s (a record refused or a handler failure), each once.
 *
 * <p>Kafka makes the interceptor, not CDI: it records into the registry Quarkus builds, {@link
 * Metrics#globalRegistry}.
 */
public final class DeadLetterMetrics implements ProducerInterceptor<Object, Object> {
    @Override
    public ProducerRecord<Object, Object> onSend(ProducerRecord<Object, Object> record) {
        return record;
    }

    @Override
    public void onAcknowledgement(RecordMetadata metadata, Exception exception) {
        if (exception != null || metadata == null) {
            return; // not written: the dead-letter queue reports the failure on its own
        }
        Recording.safely("dead-lettered", () -> {
            Config config = ConfigProvider.getConfig();
            KafkaChannels.Channel source = KafkaChannels.deadLetteringInto(config, metadata.topic())
                    .orElse(new KafkaChannels.Channel("", metadata.topic(), "unknown"));
            Counter.builder("finetune.kafka.dead.lettered")
                    .description("Records written to a dead-letter topic, by the topic and consumer group they"
                            + " were read from")
                    .tags("topic", source.topic(), "group", source.group())
                    .register(Metrics.globalRegistry)
                    .increment();
        });
    }

    @Override
    public void close() {}

    @Override
    public void configure(Map<String, ?> configs) {}
}
