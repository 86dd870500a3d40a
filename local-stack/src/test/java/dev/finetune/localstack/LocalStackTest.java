package dev.finetune.localstack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(LocalStackExtension.class)
class LocalStackTest {

    @Test
    void recordProducedToTheBrokerIsConsumedWithItsKey(LocalStack stack) throws Exception {
        String topic = "local-stack-test-" + UUID.randomUUID();
        stack.createTopics(Map.of(topic, 3));
        produce(stack.kafkaBootstrapServers(), topic, "job-1", "hello");

        List<ConsumerRecord<String, String>> records = consumeAll(stack.kafkaBootstrapServers(), topic, 1);

        assertThat(records).singleElement().satisfies(r -> {
            assertThat(r.key()).isEqualTo("job-1");
            assertThat(r.value()).isEqualTo("hello");
        });
    }

    @Test
    void s3ServerStoppedRefusesConnectionsAndComesBackOnTheSamePort(LocalStack stack) throws Exception {
        String endpoint = stack.s3Endpoint();
        HttpRequest root = HttpRequest.newBuilder(URI.create(endpoint + "/")).build();

        stack.stopS3();
        assertThatThrownBy(() -> HttpClient.newHttpClient().send(root, HttpResponse.BodyHandlers.ofString()))
                .isInstanceOf(java.net.ConnectException.class);

        stack.startS3();
        assertThat(stack.s3Endpoint()).isEqualTo(endpoint);
        assertThat(HttpClient.newHttpClient()
                        .send(root, HttpResponse.BodyHandlers.ofString())
                        .statusCode())
                .isEqualTo(403);
    }

    @Test
    void kafkaBrokerStoppedRefusesConnectionsAndComesBackWithItsRecords(LocalStack stack) throws Exception {
        String topic = "broker-restart-" + UUID.randomUUID();
        produce(stack.kafkaBootstrapServers(), topic, "k", "before");
        int port = Integer.parseInt(stack.kafkaBootstrapServers()
                .substring(stack.kafkaBootstrapServers().lastIndexOf(':') + 1));

        stack.stopKafka();
        try {
            assertThatThrownBy(() -> {
                        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", port)) {
                            socket.getInputStream();
                        }
                    })
                    .isInstanceOf(java.net.ConnectException.class);
        } finally {
            stack.startKafka();
        }

        produce(stack.kafkaBootstrapServers(), topic, "k", "after");
        assertThat(consumeAll(stack.kafkaBootstrapServers(), topic, 2))
                .extracting(ConsumerRecord::value)
                .containsExactly("before", "after");
    }

    @Test
    void s3ServerRefusesUnsignedRequests(LocalStack stack) throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create(stack.s3Endpoint() + "/"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());

        assertThat(response.statusCode()).isEqualTo(403);
        assertThat(response.body()).contains("AccessDenied");
    }

    @Test
    void dataDirectoryKeepsRecordsAcrossRestarts(@TempDir Path dir) throws Exception {
        LocalStack.Options options = new LocalStack.Options(0, 0, 0, dir, false, "k", "s");
        try (LocalStack first = LocalStack.start(options)) {
            produce(first.kafkaBootstrapServers(), "kept", "a", "survives");
        }
        assertThat(dir.resolve("kafka/meta.properties")).exists();

        try (LocalStack second = LocalStack.start(options)) {
            assertThat(consumeAll(second.kafkaBootstrapServers(), "kept", 1))
                    .extracting(ConsumerRecord::value)
                    .containsExactly("survives");
        }
        assertThat(dir).exists();
    }

    @Test
    void ephemeralDataIsRemovedOnClose() {
        LocalStack.Options options = LocalStack.Options.ephemeral();
        LocalStack.start(options).close();

        assertThat(Files.exists(options.dataDir())).isFalse();
    }

    @Test
    void topicSpecWithoutPartitionCountIsRefusedWithTheSpec() {
        assertThat(LocalStackMain.parseTopics(List.of("a", "b:4")))
                .containsExactly(Map.entry("a", 1), Map.entry("b", 4));
        assertThatThrownBy(() -> LocalStackMain.parseTopics(List.of("jobs:x"))).hasMessageContaining("--topic jobs:x");
        assertThatThrownBy(() -> LocalStackMain.parseTopics(List.of("jobs:0"))).hasMessageContaining("--topic jobs:0");
    }

    private static void produce(String bootstrap, String topic, String key, String value) throws Exception {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(props)) {
            producer.send(new ProducerRecord<>(topic, key, value)).get();
        }
    }

    private static List<ConsumerRecord<String, String>> consumeAll(String bootstrap, String topic, int expected) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ConsumerConfig.GROUP_ID_CONFIG, "test-" + UUID.randomUUID());
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        List<ConsumerRecord<String, String>> records = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props)) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (records.size() < expected && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
            }
        }
        return records;
    }
}
