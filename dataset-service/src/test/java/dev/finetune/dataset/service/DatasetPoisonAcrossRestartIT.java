package dev.finetune.dataset.service;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.finetune.events.DatasetIngested;
import dev.finetune.events.DatasetSubmitted;
import dev.finetune.localstack.FreePorts;
import dev.finetune.localstack.LocalStack;
import dev.finetune.localstack.LocalStackExtension;
import dev.finetune.service.testing.PoisonRecords;
import dev.finetune.storage.ObjectStore;
import dev.finetune.storage.ObjectStoreConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Poison on both topics the dataset-service consumes, across a restart of the packaged service (a
 * process of its own, so that it can be stopped and started again): each batch of poison
 * ({@link PoisonRecords}) is followed by a good submission, whose ingested event lands on
 * {@code datasets.ingested} behind that topic's poison. The first batch meets a running service;
 * the second is published while none runs and meets the restarted one. Each poison record is
 * dead-lettered exactly once and both submissions are prepared.
 */
@ExtendWith(LocalStackExtension.class)
class DatasetPoisonAcrossRestartIT {
    private static final Map<String, String> DEAD_LETTERS = Map.of(
            "datasets.submitted", "datasets.submitted.dlq.dataset-service",
            "datasets.ingested", "datasets.ingested.dlq.dataset-service-preparer");

    private final List<Process> started = new ArrayList<>();
    private LocalStack stack;
    private PoisonRecords topics;
    private ObjectStore upstream;

    @AfterEach
    void stop() {
        started.forEach(Process::destroyForcibly);
    }

    @Test
    void poisonBeforeAndAfterARestartIsDeadLetteredOnceAndTheSubmissionsBehindItArePrepared(LocalStack stack)
            throws Exception {
        this.stack = stack;
        topics = new PoisonRecords(stack.kafkaBootstrapServers());
        upstream = new ObjectStore(
                ObjectStoreConfig.of(stack.s3Endpoint(), stack.s3AccessKey(), stack.s3SecretKey(), "upstream-exports"));
        upstream.ensureBucket();
        String suffix = UUID.randomUUID().toString().substring(0, 8);
        String before = "poison-before-" + suffix;
        String after = "poison-after-" + suffix;

        int first = start("dataset-poison-1");
        poisonThenSubmit(before);
        awaitPrepared(first, before);
        assertDeadLetteredOnce(before, "the first poison");
        Process running = started.get(0);
        running.destroy(); // SIGTERM: a graceful stop, as a rollout does
        running.waitFor();

        poisonThenSubmit(after); // while no service runs
        int second = start("dataset-poison-2");
        awaitPrepared(second, after);
        assertDeadLetteredOnce(after, "the poison published while the service was down");
        assertDeadLetteredOnce(before, "the first poison, not read again after the restart");
        given().port(second).get("/q/health/live").then().statusCode(200);
    }

    /** Poison on both topics keyed {@code name}, then a good submission of an upstream object. */
    private void poisonThenSubmit(String name) throws Exception {
        String key = "exports/" + name + ".jsonl";
        upstream.putBytes(key, DatasetUploadTest.alpaca(12).getBytes(StandardCharsets.UTF_8), "application/jsonl");
        String submitted = "{\"datasetName\":\"" + name + "\",\"objectUri\":\"s3://upstream-exports/" + key + "\"}";
        String ingested = "{\"datasetId\":\"" + name + "@1\",\"datasetName\":\"" + name + "\",\"version\":\"1\"}";
        topics.publishPoison("datasets.submitted", name, DatasetSubmitted.TYPE, submitted);
        topics.publishPoison("datasets.ingested", name, DatasetIngested.TYPE, ingested);
        topics.publishEvent("datasets.submitted", name, DatasetSubmitted.TYPE, submitted);
    }

    private void assertDeadLetteredOnce(String key, String what) {
        DEAD_LETTERS.forEach((topic, deadLetters) -> assertThat(topics.deadLettered(deadLetters, topic, key))
                .as("%s: %s", topic, what)
                .hasSize(PoisonRecords.KINDS)
                .allSatisfy(reason -> assertThat(reason).isNotBlank()));
    }

    private static void awaitPrepared(int port, String name) {
        await().atMost(Duration.ofMinutes(2))
                .pollInterval(Duration.ofMillis(500))
                .ignoreExceptions() // 404 until the version exists
                .until(
                        () -> given().port(port)
                                .get("/api/datasets/{n}/versions/1", name)
                                .then()
                                .statusCode(200)
                                .extract()
                                .path("status"),
                        "prepared"::equals);
    }

    /** Starts the packaged service against the stack and waits until it is ready; returns its port. */
    private int start(String name) throws Exception {
        Path jar = Path.of("target/quarkus-app/quarkus-run.jar");
        if (!Files.exists(jar)) {
            throw new IllegalStateException(jar.toAbsolutePath() + " is missing: run in the integration-test phase");
        }
        int port = FreePorts.find();
        Path log = Files.createDirectories(Path.of("target/service-logs")).resolve(name + ".log");
        ProcessBuilder builder = new ProcessBuilder(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-Xmx512m",
                        "-jar",
                        jar.toString())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        Map<String, String> environment = builder.environment();
        environment.put("QUARKUS_HTTP_PORT", String.valueOf(port));
        environment.put("KAFKA_BOOTSTRAP_SERVERS", stack.kafkaBootstrapServers());
        environment.put("PIPELINE_OBJECT_STORE_ENDPOINT", stack.s3Endpoint());
        environment.put("PIPELINE_OBJECT_STORE_ACCESS_KEY", stack.s3AccessKey());
        environment.put("PIPELINE_OBJECT_STORE_SECRET_KEY", stack.s3SecretKey());
        environment.put("PIPELINE_SECURITY_ENABLED", "false");
        environment.put("DATASET_UPSTREAM_ALLOWED", "upstream-exports/exports/");
        environment.put(
                "PIPELINE_DATASET_WORK_DIR", Files.createTempDirectory(name).toString());
        started.add(builder.start());
        await().atMost(Duration.ofSeconds(60))
                .ignoreExceptions()
                .until(() -> given().port(port).get("/q/health/ready").statusCode() == 200);
        return port;
    }
}
