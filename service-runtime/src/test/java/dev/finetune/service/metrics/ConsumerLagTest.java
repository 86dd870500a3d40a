package dev.finetune.service.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.finetune.localstack.LocalStack;
import dev.finetune.localstack.LocalStackExtension;
import dev.finetune.service.metrics.ConsumerLag.Subscription;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Consumer lag as the real broker of the local stack reports it. */
@ExtendWith(LocalStackExtension.class)
class ConsumerLagTest {

    @Test
    void lagIsEndMinusCommittedSummedOverPartitionsAndCountsFromTheStartWithoutACommit(LocalStack stack)
            throws Exception {
        String topic = "lag-test-" + UUID.randomUUID().toString().substring(0, 8);
        stack.createTopics(Map.of(topic, 2));
        produce(stack, topic, 0, 5);
        produce(stack, topic, 1, 3);
        try (Admin admin = admin(stack.kafkaBootstrapServers(), Duration.ofSeconds(10))) {
            admin.alterConsumerGroupOffsets(
                            "committed-two", Map.of(new TopicPartition(topic, 0), new OffsetAndMetadata(2)))
                    .all()
                    .get();
            Subscription partlyRead = new Subscription(topic, "committed-two");
            Subscription neverRead = new Subscription(topic, "never-committed");
            Subscription noTopic = new Subscription(topic + "-missing", "committed-two");

            Map<Subscription, Long> lags =
                    new ConsumerLag(admin, Duration.ofSeconds(10)).read(List.of(partlyRead, neverRead, noTopic));

            assertThat(lags).containsEntry(partlyRead, (5L - 2) + 3).containsEntry(neverRead, 8L);
            assertThat(lags)
                    .as("a topic that does not exist has no lag to report")
                    .doesNotContainKey(noTopic);
        }
    }

    @Test
    void aBrokerThatIsAwayCostsAtMostTheTimeoutAndReportsNothing() throws Exception {
        try (Admin admin = admin("127.0.0.1:1", Duration.ofMillis(800))) {
            long started = System.nanoTime();

            Map<Subscription, Long> lags =
                    new ConsumerLag(admin, Duration.ofMillis(800)).read(List.of(new Subscription("t", "g")));

            assertThat(lags).isEmpty();
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(3));
        }
    }

    private static Admin admin(String bootstrap, Duration timeout) {
        return Admin.create(Map.of(
                AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                bootstrap,
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG,
                (int) timeout.toMillis(),
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG,
                (int) timeout.toMillis()));
    }

    private static void produce(LocalStack stack, String topic, int partition, int records) throws Exception {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.kafkaBootstrapServers());
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(props)) {
            for (int i = 0; i < records; i++) {
                producer.send(new ProducerRecord<>(topic, partition, "k", "v" + i))
                        .get();
            }
        }
    }
}
