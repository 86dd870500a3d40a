package dev.finetune.training;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.finetune.events.DatasetPrepared;
import dev.finetune.events.TrainingJobRequested;
import dev.finetune.localstack.LocalStack;
import dev.finetune.localstack.LocalStackExtension;
import io.restassured.path.json.JsonPath;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
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
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Poison on both topics the training-service consumes, across a restart of the packaged service:
 * each batch of poison (undecodable bytes, no CloudEvents headers, an unknown ce_type) is followed by
 * a good record, a prepared version with a training trigger, whose job request lands on
 * {@code training.jobs} behind that topic's poison. The first batch meets a running worker; the
 * second is published while no worker runs and meets the restarted one. Each poison record is
 * dead-lettered exactly once (the restart reads none of the first batch again) and both triggered
 * jobs succeed.
 */
@ExtendWith(LocalStackExtension.class)
class PoisonAcrossRestartIT {
    private static final String JOBS = "training.jobs";
    private static final String PREPARED = "datasets.prepared";
    private static final Map<String, String> DEAD_LETTERS =
            Map.of(JOBS, "training.jobs.dlq.training-workers", PREPARED, "datasets.prepared.dlq.training-service");
    private static final byte[] GARBAGE = {0, (byte) 0xff, (byte) 0xfe, 'n', 'o', 't', ' ', 'j', 's', 'o', 'n'};
    private static final List<String> POISON = List.of("garbage", "no-cloudevent-headers", "unknown-type");

    @AutoClose
    private WorkerProcesses workers;

    private String bootstrap;

    @Test
    void poisonBeforeAndAfterARestartIsDeadLetteredOnceAndTheGoodRecordsBehindItAreProcessed(LocalStack stack)
            throws Exception {
        bootstrap = stack.kafkaBootstrapServers();
        workers = new WorkerProcesses(stack);
        String suffix = UUID.randomUUID().toString().substring(0, 8);
        String before = "poison-before-" + suffix;
        String after = "poison-after-" + suffix;
        var store = workers.storeWith("poison-base", before);
        Fixtures.sftDataset(store, after);

        WorkerProcesses.Worker first = workers.start("poison-worker-1", Map.of());
        poisonThenTrigger(before);
        awaitSucceeded(first, "ds-" + before + "-1");
        for (String topic : DEAD_LETTERS.keySet()) {
            assertThat(deadLettered(topic, before))
                    .as("%s: the first poison", topic)
                    .hasSize(POISON.size());
        }
        first.process().destroy(); // SIGTERM: a graceful stop, as a rollout does
        first.process().waitFor();

        poisonThenTrigger(after); // while no worker runs
        WorkerProcesses.Worker second = workers.start("poison-worker-2", Map.of());
        awaitSucceeded(second, "ds-" + after + "-1");
        for (String topic : DEAD_LETTERS.keySet()) {
            assertThat(deadLettered(topic, after))
                    .as("%s: the poison published while the service was down", topic)
                    .hasSize(POISON.size());
            assertThat(deadLettered(topic, before))
                    .as("%s: the first poison, not read again after the restart", topic)
                    .hasSize(POISON.size());
        }
        given().port(second.port()).get("/q/health/live").then().statusCode(200);
    }

    /**
     * Poison on both topics keyed {@code dataset}, then the dataset's prepared version with a
     * trigger: the job it requests is published on training.jobs after that topic's poison.
     */
    private void poisonThenTrigger(String dataset) throws Exception {
        String jobRequest = "{\"jobId\":\"poison-" + dataset + "\",\"baseModel\":\"poison-base\",\"datasetName\":\""
                + dataset + "\",\"datasetVersion\":\"1\",\"method\":\"lora\",\"objective\":\"sft\"}";
        String prepared = "{\"datasetId\":\"" + dataset + "@1\",\"datasetName\":\"" + dataset + "\",\"version\":\"1\","
                + "\"kind\":\"sft\",\"trigger\":{\"baseModel\":\"poison-base\",\"method\":\"lora\",\"objective\":\"sft\","
                + "\"hyperparameters\":{\"max_steps\":3,\"per_device_train_batch_size\":2,\"max_seq_length\":32}}}";
        poison(JOBS, dataset, TrainingJobRequested.TYPE, jobRequest);
        poison(PREPARED, dataset, DatasetPrepared.TYPE, prepared);
        publish(
                PREPARED,
                dataset,
                prepared.getBytes(StandardCharsets.UTF_8),
                cloudEvent(DatasetPrepared.TYPE, dataset));
    }

    /** The three kinds of poison, keyed {@code key}: undecodable, without CloudEvents headers, of an unknown type. */
    private void poison(String topic, String key, String type, String validJson) throws Exception {
        byte[] valid = validJson.getBytes(StandardCharsets.UTF_8);
        publish(topic, key, GARBAGE, cloudEvent(type, key));
        publish(topic, key, valid, Map.of());
        publish(topic, key, valid, cloudEvent("dev.finetune.no-such.event.v1", key));
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

    private void publish(String topic, String key, byte[] value, Map<String, String> headers) throws Exception {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(props)) {
            ProducerRecord<String, byte[]> record = new ProducerRecord<>(topic, key, value);
            headers.forEach((name, text) -> record.headers().add(name, text.getBytes(StandardCharsets.UTF_8)));
            producer.send(record).get();
        }
    }

    private static void awaitSucceeded(WorkerProcesses.Worker worker, String id) {
        JsonPath job = await().atMost(Duration.ofMinutes(3))
                .pollInterval(Duration.ofSeconds(1))
                .ignoreExceptions() // 404 until the trigger's job exists
                .until(() -> worker.job(id), j -> {
                    String state = j.getString("state");
                    assertThat(state).as(j.getString("failureReason")).isNotIn("failed", "cancelled");
                    return "succeeded".equals(state);
                });
        assertThat(job.getLong("step")).isEqualTo(3);
    }

    /**
     * The dead-letter records of {@code topic}'s consumer keyed {@code key}, by their reason: read
     * until nothing more arrives for a while (the records are all there by then).
     */
    private List<String> deadLettered(String topic, String key) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ConsumerConfig.GROUP_ID_CONFIG, "poison-check-" + UUID.randomUUID());
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        List<String> reasons = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(props)) {
            consumer.subscribe(List.of(DEAD_LETTERS.get(topic)));
            long quietUntil = System.nanoTime() + Duration.ofSeconds(8).toNanos();
            while (System.nanoTime() < quietUntil) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    quietUntil = System.nanoTime() + Duration.ofSeconds(3).toNanos();
                    if (key.equals(r.key())) {
                        Map<String, String> headers = new HashMap<>();
                        r.headers().forEach(h -> headers.put(h.key(), new String(h.value(), StandardCharsets.UTF_8)));
                        assertThat(headers.get("dead-letter-topic")).isEqualTo(topic);
                        reasons.add(headers.get("dead-letter-reason"));
                    }
                }
            }
        }
        return reasons;
    }
}
