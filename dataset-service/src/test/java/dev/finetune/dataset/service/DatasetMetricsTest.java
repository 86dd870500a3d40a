package dev.finetune.dataset.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.finetune.localstack.LocalStackTestResource;
import dev.finetune.service.testing.EventTopics;
import dev.finetune.service.testing.Scrape;
import dev.finetune.storage.ObjectStore;
import dev.finetune.storage.ObjectStoreException;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What an operator's Prometheus sees of datasets being prepared: scraped from /q/metrics before and after. */
@QuarkusTest
@WithTestResource(LocalStackTestResource.class)
class DatasetMetricsTest {
    private static final String LINES = "finetune_dataset_lines_total";
    private static final String PREPARATIONS = "finetune_dataset_preparations_total";

    @Inject
    ObjectStore store;

    @Test
    void linesAreCountedByOutcomeAndTheRuleTheyBroke() {
        String name = DatasetUploadTest.unique("metrics");
        String valid = DatasetUploadTest.alpaca(30);
        String firstLine = valid.lines().findFirst().orElseThrow();
        // 30 examples, one line without its output, two exact copies of the first line, one blank line.
        String jsonl = valid + "{\"instruction\":\"no answer here\"}\n" + firstLine + "\n\n" + firstLine + "\n";
        Scrape before = Scrape.now();

        DatasetUploadTest.upload(name, jsonl, 201);
        DatasetUploadTest.awaitStatus(name, "1", "prepared");

        Scrape after = Scrape.now();
        assertThat(delta(before, after, LINES, Map.of("outcome", "accepted", "reason", "none")))
                .isEqualTo(30);
        assertThat(delta(before, after, LINES, Map.of("outcome", "rejected", "reason", "output")))
                .isEqualTo(1);
        assertThat(delta(before, after, LINES, Map.of("outcome", "rejected"))).isEqualTo(1);
        assertThat(delta(before, after, LINES, Map.of("outcome", "duplicate", "reason", "exact")))
                .isEqualTo(2);
        assertThat(delta(before, after, LINES, Map.of("outcome", "duplicate", "reason", "near")))
                .isZero();
        assertThat(delta(before, after, PREPARATIONS, Map.of("outcome", "prepared")))
                .isEqualTo(1);
        assertThat(delta(before, after, PREPARATIONS, Map.of("outcome", "rejected")))
                .isZero();
        // The reason label never carries a message or a line's content.
        assertThat(after.text()).doesNotContain("no answer here").doesNotContain("is required");
    }

    @Test
    void aRejectedDatasetIsCountedRejectedWithItsLinesByRule() {
        String name = DatasetUploadTest.unique("metrics-rejected");
        Scrape before = Scrape.now();

        DatasetUploadTest.upload(name, "not json\n{\"instruction\":\"a\",\"output\":\"b\"}\n[1]\n", 201);
        DatasetUploadTest.awaitStatus(name, "1", "rejected");

        Scrape after = Scrape.now();
        assertThat(delta(before, after, PREPARATIONS, Map.of("outcome", "rejected")))
                .isEqualTo(1);
        assertThat(delta(before, after, LINES, Map.of("outcome", "rejected", "reason", "json")))
                .isEqualTo(1);
        assertThat(delta(before, after, LINES, Map.of("outcome", "rejected", "reason", "json_object")))
                .isEqualTo(1);
        assertThat(delta(before, after, LINES, Map.of("outcome", "accepted"))).isEqualTo(1);
    }

    @Test
    void deadLetteredRecordsAreCountedByTopicAndGroupWhicheverPathSentThem() throws Exception {
        Map<String, String> labels = Map.of("topic", "datasets.ingested", "group", "dataset-service-preparer");
        Scrape before = Scrape.now();
        String name = DatasetUploadTest.unique("poison");

        // Dead-lettered by the connector: the value is not JSON at all.
        EventTopics.publishRaw("datasets.ingested", name, "not an event".getBytes(StandardCharsets.UTF_8), Map.of());
        // Dead-lettered by EventProcessing: a decodable event without its CloudEvents headers.
        EventTopics.publishRaw(
                "datasets.ingested",
                name,
                ("{\"datasetId\":\"" + name + "@1\",\"datasetName\":\"" + name + "\",\"version\":\"1\","
                                + "\"format\":\"auto\",\"rawKey\":\"datasets/raw/" + name + "/1/data.jsonl\","
                                + "\"sha256\":\"0\",\"sizeBytes\":1,\"source\":\"upload\"}")
                        .getBytes(StandardCharsets.UTF_8),
                Map.of());

        await().atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(250))
                .until(() -> delta(before, Scrape.now(), "finetune_kafka_dead_lettered_total", labels) >= 2);
        Thread.sleep(1000); // nothing more comes
        assertThat(delta(before, Scrape.now(), "finetune_kafka_dead_lettered_total", labels))
                .isEqualTo(2);
    }

    @Test
    void consumerLagIsReportedForEveryIncomingChannelAndDrainsToZero() {
        await().atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(500))
                .untilAsserted(() -> {
                    Scrape scrape = Scrape.now();
                    assertThat(scrape.value(
                                    "finetune_kafka_consumer_lag_records",
                                    Map.of("topic", "datasets.ingested", "group", "dataset-service-preparer")))
                            .isZero();
                    assertThat(scrape.has(
                                    "finetune_kafka_consumer_lag_records",
                                    Map.of("topic", "datasets.submitted", "group", "dataset-service")))
                            .isTrue();
                    assertThat(scrape.has(
                                    "finetune_kafka_consumer_lag_records", Map.of("topic", "pipeline.diagnostics")))
                            .as("the diagnostics probe's own group is left out")
                            .isFalse();
                });
    }

    @Test
    void aFailedObjectStoreCallIsCountedAsAnErrorAndANotFoundIsNot() {
        Scrape before = Scrape.now();

        // A key no S3 server takes: longer than S3's 1,024 bytes.
        assertThatThrownBy(() ->
                        store.putBytes("metrics-test/" + "k".repeat(1100), new byte[] {1}, "application/octet-stream"))
                .isInstanceOf(ObjectStoreException.class);
        assertThat(store.stat("metrics-test/no-such-object")).isEmpty();

        Scrape after = Scrape.now();
        assertThat(delta(before, after, "finetune_object_store_errors_total", Map.of("operation", "put")))
                .isEqualTo(1);
        assertThat(delta(
                        before,
                        after,
                        "finetune_object_store_request_duration_seconds_count",
                        Map.of("operation", "put", "outcome", "error")))
                .isEqualTo(1);
        assertThat(delta(before, after, "finetune_object_store_errors_total", Map.of("operation", "stat")))
                .isZero();
        assertThat(delta(
                        before,
                        after,
                        "finetune_object_store_request_duration_seconds_count",
                        Map.of("operation", "stat", "outcome", "success")))
                .isGreaterThanOrEqualTo(1);
    }

    private static double delta(Scrape before, Scrape after, String name, Map<String, String> labels) {
        return after.value(name, labels) - before.value(name, labels);
    }
}
