package dev.finetune.cli.dlq;

import static org.assertj.core.api.Assertions.assertThat;

import dev.finetune.cli.CliRun;
import dev.finetune.localstack.LocalStack;
import dev.finetune.localstack.LocalStackExtension;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
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
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@code finetune dlq} against the real broker, on dead-letter records this test writes with the
 * headers SmallRye's dead-letter queue gives them. (A record a service really dead-letters, then
 * replayed and consumed, is {@code PipelineRunIT}'s.)
 */
@ExtendWith(LocalStackExtension.class)
class DlqCommandTest {
    /** Not UTF-8, not JSON: what a producer with the wrong serializer leaves. */
    private static final byte[] GARBAGE = {0, (byte) 0xff, 'o', 'k', '\\'};

    private String servers;
    private String source;
    private String deadLetters;

    @BeforeEach
    void topics(LocalStack stack) {
        servers = stack.kafkaBootstrapServers();
        String suffix = UUID.randomUUID().toString().substring(0, 8);
        source = "orders-" + suffix;
        deadLetters = source + ".dlq.order-service";
    }

    @Test
    void listShowsEachRecordsReasonTypeKeyAndSize() throws Exception {
        produce(deadLetters, "job-7", GARBAGE, deadLetterHeaders("ce_type", "dev.finetune.x.v1"));
        produce(deadLetters, "job-8", json("{\"a\":1}"), deadLetterHeaders("ce_type", "dev.finetune.y.v1"));

        CliRun list = run("list", deadLetters);

        assertThat(list.exit()).as(list.err()).isZero();
        List<String> lines = list.out().lines().toList();
        assertThat(lines.get(0)).contains("OFFSET", "TIMESTAMP", "KEY", "SIZE", "CE_TYPE", "REASON");
        assertThat(lines.get(1).split("\\s+")).startsWith("0", "0").contains("job-7", "5", "dev.finetune.x.v1");
        assertThat(lines.get(1)).endsWith(" the record could not be decoded: Unexpected character");
        assertThat(lines.get(2).split("\\s+")).startsWith("0", "1").contains("job-8", "7", "dev.finetune.y.v1");
        assertThat(lines.get(3)).isEqualTo("2 records in " + deadLetters);
    }

    @Test
    void showPrintsHeadersAndPrettyJsonOrEscapedBytes() throws Exception {
        produce(deadLetters, "job-1", GARBAGE, deadLetterHeaders());
        produce(deadLetters, "job-2", json("{\"jobId\":\"job-2\",\"step\":3}"), deadLetterHeaders());

        CliRun bytes = run("show", deadLetters, "0");
        CliRun json = run("show", deadLetters, "1");

        assertThat(bytes.exit()).as(bytes.err()).isZero();
        assertThat(bytes.out())
                .contains("dead-letter-reason: the record could not be decoded")
                .contains("dead-letter-topic: " + source)
                .contains("x-trace: abc")
                .contains("value (5 bytes):\n\\x00\\xffok\\x5c\n");
        assertThat(json.out()).contains("{\n  \"jobId\" : \"job-2\",\n  \"step\" : 3\n}");
    }

    @Test
    void replayPublishesTheOriginalKeyValueAndHeadersToTheSourceTopic() throws Exception {
        produce(deadLetters, "job-1", GARBAGE, deadLetterHeaders(cloudEvent("dev.finetune.order.v1")));

        CliRun replay = run("replay", deadLetters, "0");

        assertThat(replay.exit()).as(replay.err()).isZero();
        assertThat(replay.out())
                .isEqualTo("replayed " + deadLetters + " offset 0 to " + source + " (partition 0, offset 0)\n");
        ConsumerRecord<byte[], byte[]> replayed = consume(source).get(0);
        assertThat(new String(replayed.key(), StandardCharsets.UTF_8)).isEqualTo("job-1");
        assertThat(replayed.value()).isEqualTo(GARBAGE);
        Map<String, String> headers = new LinkedHashMap<>();
        for (Header h : replayed.headers()) {
            headers.put(h.key(), new String(h.value(), StandardCharsets.UTF_8));
        }
        assertThat(headers)
                .containsExactly(
                        Map.entry("x-trace", "abc"),
                        Map.entry("ce_specversion", "1.0"),
                        Map.entry("ce_id", "event-1"),
                        Map.entry("ce_type", "dev.finetune.order.v1"),
                        Map.entry("ce_source", "/orders"));
    }

    /**
     * A record decoded and then refused for its headers would be refused again as it is: with no
     * CloudEvents headers, or with another type than its topic's. Nothing is published.
     */
    @Test
    void replayRefusesEveryOffsetWhenOneWouldBeRefusedAgainForItsHeaders() throws Exception {
        produce(deadLetters, "job-1", json("{\"a\":1}"), deadLetterHeaders(cloudEvent("dev.finetune.order.v1")));
        produce(deadLetters, "job-2", json("{\"a\":2}"), deadLetterHeaders("ce_id", "event-2"));
        Map<String, String> wrongType = deadLetterHeaders(cloudEvent("dev.finetune.training.job-requested.v1"));
        wrongType.put("dead-letter-topic", "datasets.submitted");
        produce(deadLetters, "job-3", json("{\"a\":3}"), wrongType);

        CliRun headerless = run("replay", deadLetters, "0", "1");
        CliRun mistyped = run("replay", deadLetters, "2");

        assertThat(headerless.exit()).isEqualTo(1);
        assertThat(headerless.err())
                .contains("offset 1 of " + deadLetters + " is not replayed")
                .contains("no ce_specversion, ce_type, ce_source header");
        assertThat(consume(source)).as("nothing published, not even offset 0").isEmpty();
        assertThat(mistyped.exit()).isEqualTo(1);
        assertThat(mistyped.err())
                .contains("offset 2 of " + deadLetters + " is not replayed")
                .contains("ce_type 'dev.finetune.training.job-requested.v1' is not datasets.submitted's type"
                        + " 'dev.finetune.dataset.submitted.v1'");
    }

    @Test
    void replayRefusesEveryOffsetWhenOneDoesNotNameItsSourceTopic() throws Exception {
        produce(deadLetters, "job-1", GARBAGE, deadLetterHeaders(cloudEvent("dev.finetune.order.v1")));
        Map<String, String> unnamed = new LinkedHashMap<>(deadLetterHeaders(cloudEvent("dev.finetune.order.v1")));
        unnamed.remove("dead-letter-topic");
        produce(deadLetters, "job-2", GARBAGE, unnamed);

        CliRun replay = run("replay", deadLetters, "0", "1");

        assertThat(replay.exit()).isEqualTo(1);
        assertThat(replay.err())
                .contains("offset 1 of " + deadLetters + " has no dead-letter-topic header")
                .contains("not replayed");
        assertThat(consume(source)).as("nothing published, not even offset 0").isEmpty();
    }

    @Test
    void badTopicsAndOffsetsAreNamed() throws Exception {
        produce(deadLetters, "job-1", GARBAGE, deadLetterHeaders());

        assertThat(run("list", source).err())
                .contains("TOPIC must be a dead-letter topic named <topic>.dlq.<consumer>")
                .contains("got '" + source + "'");
        assertThat(run("list", "nothing-" + source + ".dlq.x").err())
                .contains("no topic 'nothing-" + source + ".dlq.x' at " + servers)
                .contains(deadLetters);
        assertThat(run("show", deadLetters, "5").err())
                .contains("offset 5: partition 0 of " + deadLetters + " holds offsets 0 to 0");
        assertThat(run("show", deadLetters, "0", "--partition", "3").err())
                .contains("--partition 3: " + deadLetters + " has partitions 0 to 0");
    }

    /** A producer's CloudEvents headers in binary mode, of type {@code type}. */
    private static String[] cloudEvent(String type) {
        return new String[] {"ce_specversion", "1.0", "ce_id", "event-1", "ce_type", type, "ce_source", "/orders"};
    }

    /** The headers SmallRye's dead-letter queue leaves, after the original ones, plus {@code extra}. */
    private Map<String, String> deadLetterHeaders(String... extra) {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("x-trace", "abc");
        for (int i = 0; i < extra.length; i += 2) {
            headers.put(extra[i], extra[i + 1]);
        }
        headers.put("dead-letter-reason", "the record could not be decoded: Unexpected character");
        headers.put("dead-letter-cause", "JsonParseException");
        headers.put("dead-letter-topic", source);
        headers.put("dead-letter-partition", "0");
        headers.put("dead-letter-offset", "12");
        headers.put("dead-letter-exception-class-name", "org.apache.kafka.common.errors.SerializationException");
        return headers;
    }

    private static byte[] json(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private void produce(String topic, String key, byte[] value, Map<String, String> headers) throws Exception {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, servers);
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props)) {
            ProducerRecord<byte[], byte[]> record =
                    new ProducerRecord<>(topic, key.getBytes(StandardCharsets.UTF_8), value);
            headers.forEach((k, v) -> record.headers().add(k, v.getBytes(StandardCharsets.UTF_8)));
            producer.send(record).get();
        }
    }

    private List<ConsumerRecord<byte[], byte[]>> consume(String topic) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, servers);
        props.put(ConsumerConfig.GROUP_ID_CONFIG, "dlq-test-" + UUID.randomUUID());
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props)) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
            }
        }
        return records;
    }

    private CliRun run(String... args) {
        List<String> all = new ArrayList<>(List.of("dlq"));
        all.addAll(List.of(args));
        all.addAll(List.of("--bootstrap-servers", servers));
        return CliRun.of(all.toArray(String[]::new));
    }
}
