package dev.finetune.dataset.service;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import dev.finetune.localstack.LocalStack;
import dev.finetune.localstack.LocalStackTestResource;
import dev.finetune.localstack.SharedLocalStack;
import dev.finetune.service.testing.EventTopics;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.UUID;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Test;

/**
 * A 30 s object-store outage (issue 20), shorter than the retry budget (75 s in tests), delays a
 * submission; it never loses it.
 */
@QuarkusTest
@WithTestResource(LocalStackTestResource.class)
class S3OutageTest {
    private static final Duration OUTAGE = Duration.ofSeconds(30);

    @Test
    void aSubmissionDuringAnS3OutageIsIngestedOnceWhenTheStoreReturns() throws Exception {
        LocalStack stack = SharedLocalStack.get();
        assertThat(stack.s3Endpoint())
                .as("the stack this test stops is the one the service uses")
                .isEqualTo(ConfigProvider.getConfig().getValue("pipeline.object-store.endpoint", String.class));
        String name = DatasetUploadTest.unique("outage");
        String key = "exports/" + name + ".jsonl";
        DatasetSubmissionTest.upstream()
                .putBytes(key, DatasetUploadTest.alpaca(12).getBytes(StandardCharsets.UTF_8), "application/jsonl");

        stack.stopS3();
        try {
            EventTopics.publishCloudEvent(
                    "datasets.submitted",
                    name,
                    UUID.randomUUID().toString(),
                    "dev.finetune.dataset.submitted.v1",
                    "{\"datasetName\":\"" + name + "\",\"objectUri\":\"s3://upstream-exports/" + key + "\"}");
            Thread.sleep(OUTAGE.toMillis());
        } finally {
            stack.startS3();
        }

        DatasetUploadTest.awaitStatus(name, "1", "prepared");
        assertThat(given().get("/api/datasets/{n}/versions", name)
                        .then()
                        .statusCode(200)
                        .extract()
                        .jsonPath()
                        .getList("ingest.version"))
                .containsExactly("1");
        assertThat(EventTopics.read(
                        "datasets.ingested",
                        v -> v.path("datasetName").asText().equals(name),
                        1,
                        Duration.ofSeconds(20)))
                .hasSize(1);
        assertThat(EventTopics.read(
                        "datasets.submitted.dlq.dataset-service",
                        v -> v.path("datasetName").asText().equals(name),
                        0,
                        Duration.ofSeconds(3)))
                .isEmpty();
    }
}
