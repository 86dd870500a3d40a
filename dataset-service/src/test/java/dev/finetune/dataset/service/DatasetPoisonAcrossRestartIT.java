package dev.finetune.dataset.service;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.finetune.events.DatasetIngested;
import dev.finetune.events.DatasetSubmitted;
import dev.finetune.localstack.LocalStack;
import dev.finetune.localstack.LocalStackExtension;
import dev.finetune.service.testing.PackagedService;
import dev.finetune.service.testing.PoisonRecords;
import dev.finetune.storage.ObjectStore;
import dev.finetune.storage.ObjectStoreConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AutoClose;
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

    @AutoClose
    private PackagedService service;

    private PoisonRecords topics;
    private ObjectStore upstream;

    @Test
    void poisonBeforeAndAfterARestartIsDeadLetteredOnceAndTheSubmissionsBehindItArePrepared(LocalStack stack)
            throws Exception {
        service = new PackagedService(
                stack,
                Map.of(
                        "DATASET_UPSTREAM_ALLOWED",
                        "upstream-exports/exports/",
                        "PIPELINE_DATASET_WORK_DIR",
                        Files.createTempDirectory("dataset-poison").toString()));
        topics = new PoisonRecords(stack.kafkaBootstrapServers());
        upstream = new ObjectStore(
                ObjectStoreConfig.of(stack.s3Endpoint(), stack.s3AccessKey(), stack.s3SecretKey(), "upstream-exports"));
        upstream.ensureBucket();
        String suffix = UUID.randomUUID().toString().substring(0, 8);
        String before = "poison-before-" + suffix;
        String after = "poison-after-" + suffix;

        PackagedService.Instance first = service.start("dataset-poison-1");
        poisonThenSubmit(before);
        awaitPrepared(first.port(), before);
        assertDeadLetteredOnce(before, "the first poison");
        first.stop();

        poisonThenSubmit(after); // while no service runs
        PackagedService.Instance second = service.start("dataset-poison-2");
        awaitPrepared(second.port(), after);
        assertDeadLetteredOnce(after, "the poison published while the service was down");
        assertDeadLetteredOnce(before, "the first poison, not read again after the restart");
        given().port(second.port()).get("/q/health/live").then().statusCode(200);
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
}
