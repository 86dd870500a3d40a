package dev.finetune.dataset.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.dataset.catalog.ContentClaim;
import dev.finetune.dataset.catalog.DatasetCatalog;
import dev.finetune.dataset.catalog.DatasetCatalog.Tagged;
import dev.finetune.localstack.LocalStackTestResource;
import dev.finetune.service.testing.EventTopics;
import dev.finetune.storage.ObjectKeys;
import dev.finetune.storage.ObjectStore;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.junit.jupiter.api.Test;

/**
 * A version's events are published once, however often the events that lead to them are delivered
 * (issue 20: after a broker outage one dataset was announced {@code prepared} three times), and an
 * announcement that never reached the broker is made when its event comes again. Redeliveries are
 * real records on the real broker; each test waits until the consumer group has committed past the
 * redelivered record, so "nothing was published" is checked after the work, not before it.
 */
@QuarkusTest
@WithTestResource(LocalStackTestResource.class)
class AnnouncedOnceTest {
    private static final String SUBMITTED = "dev.finetune.dataset.submitted.v1";

    @Inject
    DatasetCatalog catalog;

    @Inject
    ObjectStore store;

    @Test
    void aRedeliveredIngestedEventAnnouncesTheOutcomeOnlyIfItWasNeverAnnounced() throws Exception {
        String name = DatasetUploadTest.unique("announced");
        DatasetUploadTest.upload(name, DatasetUploadTest.alpaca(12), 201);
        DatasetUploadTest.awaitStatus(name, "1", "prepared");
        String announced = ObjectKeys.preparedDataset(name, "1", "announced.json");
        await().atMost(Duration.ofSeconds(10)).until(() -> store.exists(announced));
        EventTopics.Received ingested = single(events("datasets.ingested", name, 1));
        String preparedId =
                single(events("datasets.prepared", name, 1)).headers().get("ce_id");

        // The preparer's offset was not committed (a broker outage, a rebalance): the event comes again.
        redeliver("datasets.ingested", "dataset-service-preparer", ingested);
        assertThat(events("datasets.prepared", name, 2))
                .as("prepared events after a redelivery of an announced version")
                .hasSize(1);

        // The service stopped after the manifest and before the broker's acknowledgement was recorded.
        store.delete(announced);
        redeliver("datasets.ingested", "dataset-service-preparer", ingested);
        List<EventTopics.Received> prepared = events("datasets.prepared", name, 2);
        assertThat(prepared).hasSize(2);
        assertThat(prepared)
                .as("the second announcement is recognisable as the same fact")
                .allSatisfy(e -> assertThat(e.headers().get("ce_id")).isEqualTo(preparedId));
        assertThat(store.exists(announced)).isTrue();
    }

    @Test
    void aRedeliveredSubmissionAnnouncesAnIngestionWhosePublishingFailed() throws Exception {
        String name = DatasetUploadTest.unique("unannounced");
        String key = "exports/" + name + ".jsonl";
        DatasetSubmissionTest.upstream()
                .putBytes(key, DatasetUploadTest.alpaca(12).getBytes(StandardCharsets.UTF_8), "application/jsonl");
        String value = "{\"datasetName\":\"" + name + "\",\"objectUri\":\"s3://upstream-exports/" + key + "\"}";
        String eventId = UUID.randomUUID().toString();
        EventTopics.publishCloudEvent("datasets.submitted", name, eventId, SUBMITTED, value);
        String sha256 = DatasetUploadTest.awaitStatus(name, "1", "prepared").getString("ingest.sha256");
        EventTopics.Received submitted = new EventTopics.Received(
                name, new ObjectMapper().readTree(value), EventTopics.cloudEventHeaders(eventId, SUBMITTED, name));

        // What ingestion leaves when its datasets.ingested send fails for good (a broker away for
        // longer than the producer's delivery timeout): the version and its bytes, the claim unfinished.
        Tagged<ContentClaim> claim = catalog.contentClaim(name, sha256).orElseThrow();
        assertThat(claim.value().isIngested()).isTrue();
        catalog.replaceContentClaim(name, sha256, claim.value().unfinished(), claim.etag())
                .orElseThrow();

        redeliver("datasets.submitted", "dataset-service", submitted);
        List<EventTopics.Received> ingested = events("datasets.ingested", name, 2);
        assertThat(ingested)
                .as("datasets.ingested, announced again by the redelivery")
                .hasSize(2);
        assertThat(catalog.contentClaim(name, sha256).orElseThrow().value().isIngested())
                .isTrue();

        // Now complete: a further redelivery publishes nothing, and neither does the preparer,
        // which had announced the version already.
        redeliver("datasets.submitted", "dataset-service", submitted);
        assertThat(events("datasets.ingested", name, 3)).hasSize(2);
        assertThat(events("datasets.prepared", name, 2)).hasSize(1);
        assertThat(catalog.versions(name)).hasSize(1);
    }

    /** Publishes the record again, as its topic would redeliver it, and waits until it was handled. */
    private static void redeliver(String topic, String group, EventTopics.Received record) throws Exception {
        RecordMetadata at = EventTopics.publishRaw(
                topic, record.key(), record.value().toString().getBytes(StandardCharsets.UTF_8), record.headers());
        await().atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(250))
                .until(() -> EventTopics.committedOffset(group, topic, at.partition()) > at.offset());
    }

    /** The events about this dataset on the topic, waiting briefly for {@code min} of them. */
    private static List<EventTopics.Received> events(String topic, String name, int min) throws Exception {
        return EventTopics.read(topic, v -> named(v, name), min, Duration.ofSeconds(min == 1 ? 20 : 5));
    }

    private static EventTopics.Received single(List<EventTopics.Received> events) {
        assertThat(events).hasSize(1);
        return events.get(0);
    }

    private static boolean named(JsonNode value, String name) {
        return value.path("datasetName").asText().equals(name);
    }
}
