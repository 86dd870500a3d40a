package dev.finetune.dataset.service;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;

import dev.finetune.localstack.LocalStackTestResource;
import dev.finetune.service.testing.EventTopics;
import dev.finetune.storage.ObjectStore;
import dev.finetune.storage.ObjectStoreConfig;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Test;

/** The path upstream systems use: write the object to S3, then announce it on datasets.submitted. */
@QuarkusTest
@WithTestResource(LocalStackTestResource.class)
class DatasetSubmissionTest {
    private static final String TYPE = "dev.finetune.dataset.submitted.v1";

    @Inject
    ObjectStore store;

    @Test
    void submittedObjectIsIngestedOnceEvenWhenTheEventIsDuplicated() throws Exception {
        String name = DatasetUploadTest.unique("submitted");
        String key = "exports/" + name + ".jsonl";
        upstream().putBytes(key, DatasetUploadTest.alpaca(15).getBytes(StandardCharsets.UTF_8), "application/jsonl");
        String event = "{\"datasetName\":\"" + name + "\",\"objectUri\":\"s3://upstream-exports/" + key
                + "\",\"format\":\"auto\",\"labels\":{\"owner\":\"support\"}}";

        String eventId = UUID.randomUUID().toString();
        EventTopics.publishCloudEvent("datasets.submitted", name, eventId, TYPE, event);
        EventTopics.publishCloudEvent("datasets.submitted", name, eventId, TYPE, event); // redelivery
        EventTopics.publishCloudEvent(
                "datasets.submitted", name, UUID.randomUUID().toString(), TYPE, event); // resent

        var version = DatasetUploadTest.awaitStatus(name, "1", "prepared");
        assertThat(version.getString("ingest.source")).isEqualTo("s3://upstream-exports/" + key);
        assertThat(version.getString("ingest.labels.owner")).isEqualTo("support");
        List<EventTopics.Received> ingested = EventTopics.read(
                "datasets.ingested", v -> v.path("datasetName").asText().equals(name), 1, Duration.ofSeconds(20));
        assertThat(ingested).hasSize(1);
        assertThat(given().get("/api/datasets/{n}/versions", name)
                        .then()
                        .extract()
                        .jsonPath()
                        .getList("ingest.version"))
                .containsExactly("1");
    }

    @Test
    void submissionOfAMissingObjectGoesToTheDeadLetterTopicWithTheReason() throws Exception {
        String name = DatasetUploadTest.unique("missing");
        String event = "{\"datasetName\":\"" + name + "\",\"objectUri\":\"s3://upstream-exports/exports/nope/" + name
                + ".jsonl\"}";
        EventTopics.publishCloudEvent(
                "datasets.submitted", name, UUID.randomUUID().toString(), TYPE, event);

        List<EventTopics.Received> dead = EventTopics.read(
                "datasets.submitted.dlq.dataset-service",
                v -> v.path("datasetName").asText().equals(name),
                1,
                Duration.ofSeconds(40));
        assertThat(dead).singleElement().satisfies(r -> assertThat(r.headers().get("dead-letter-reason"))
                .contains("nope/" + name + ".jsonl"));
        given().get("/api/datasets/{n}/versions", name).then().statusCode(200);
    }

    @Test
    void submissionOutsideTheAllowedLocationsIsDeadLetteredWithTheReason() throws Exception {
        String name = DatasetUploadTest.unique("not-allowed");
        String key = "private/" + name + ".jsonl";
        upstream().putBytes(key, DatasetUploadTest.alpaca(5).getBytes(StandardCharsets.UTF_8), "application/jsonl");

        assertThat(deadLettered(name, "s3://upstream-exports/" + key))
                .contains("s3://upstream-exports/" + key + " is not in an allowed source location for datasets")
                .contains("upstream-exports/exports/")
                .contains("pipeline.dataset.upstream.allowed");
        given().get("/api/datasets/{n}/versions", name).then().statusCode(200).body("size()", equalTo(0));
    }

    @Test
    void submissionOfAnObjectInThePipelinesOwnBucketIsDeadLettered() throws Exception {
        String name = DatasetUploadTest.unique("own-bucket");
        String victim = DatasetUploadTest.unique("victim");
        DatasetUploadTest.upload(victim, DatasetUploadTest.alpaca(5), 201);
        String internal = "s3://" + store.bucket() + "/datasets/raw/" + victim + "/1/data.jsonl";

        assertThat(deadLettered(name, internal))
                .contains(internal + " is in the pipeline's own bucket, which is never a source of datasets");
        given().get("/api/datasets/{n}/versions", name).then().statusCode(200).body("size()", equalTo(0));
    }

    /** Publishes a submission of {@code objectUri} and returns the reason it was dead-lettered with. */
    private static String deadLettered(String name, String objectUri) throws Exception {
        String event = "{\"datasetName\":\"" + name + "\",\"objectUri\":\"" + objectUri + "\"}";
        EventTopics.publishCloudEvent(
                "datasets.submitted", name, UUID.randomUUID().toString(), TYPE, event);
        List<EventTopics.Received> dead = EventTopics.read(
                "datasets.submitted.dlq.dataset-service",
                v -> v.path("datasetName").asText().equals(name),
                1,
                Duration.ofSeconds(40));
        assertThat(dead).hasSize(1);
        return dead.get(0).headers().get("dead-letter-reason");
    }

    static ObjectStore upstream() {
        var config = ConfigProvider.getConfig();
        ObjectStore store = new ObjectStore(ObjectStoreConfig.of(
                config.getValue("pipeline.object-store.endpoint", String.class),
                config.getValue("pipeline.object-store.access-key", String.class),
                config.getValue("pipeline.object-store.secret-key", String.class),
                "upstream-exports"));
        store.ensureBucket();
        return store;
    }
}
