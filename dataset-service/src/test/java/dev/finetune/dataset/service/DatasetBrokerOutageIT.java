package dev.finetune.dataset.service;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.finetune.localstack.LocalStack;
import dev.finetune.localstack.LocalStackTestResource;
import dev.finetune.localstack.SharedLocalStack;
import dev.finetune.service.testing.EventTopics;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * A Kafka outage in the middle of a dataset submission (issue 20 item 8): an upstream system
 * announces an object on datasets.submitted, the service ingests it, and while the version is still
 * being prepared the local stack's in-process KRaft broker is really shut down for 30 s and started
 * again on the same port (log and committed offsets kept). The service runs in-process: the broker
 * it talks to is a real one stopped underneath it, which is all the outage needs. Afterwards the
 * submission is ingested and prepared exactly once: one version, one datasets.ingested and one
 * datasets.prepared event, nothing dead-lettered.
 *
 * <p>Run by failsafe, alone in its JVM: it stops the broker every test class of the JVM shares.
 */
@QuarkusTest
@WithTestResource(LocalStackTestResource.class)
class DatasetBrokerOutageIT {
    /** As long as issue 20 asks for. */
    private static final Duration OUTAGE = Duration.ofSeconds(30);

    private static final String TYPE = "dev.finetune.dataset.submitted.v1";

    @Test
    void aSubmissionThatMeetsABrokerOutageIsIngestedAndPreparedOnce() throws Exception {
        LocalStack stack = SharedLocalStack.get();
        assertThat(stack.kafkaBootstrapServers())
                .as("the broker this test stops is the one the service uses")
                .isEqualTo(EventTopics.bootstrap());

        String name = DatasetUploadTest.unique("outage");
        String key = "exports/" + name + ".jsonl";
        // Enough examples that preparation (parse, dedup, tokenise, split) is still running when the broker goes.
        DatasetSubmissionTest.upstream()
                .putBytes(key, DatasetUploadTest.alpaca(3000).getBytes(StandardCharsets.UTF_8), "application/jsonl");
        String event = "{\"datasetName\":\"" + name + "\",\"objectUri\":\"s3://upstream-exports/" + key + "\"}";
        EventTopics.publishCloudEvent(
                "datasets.submitted", name, UUID.randomUUID().toString(), TYPE, event);

        // Ingested (the version exists), not yet prepared: the outage hits the submission half-way.
        String before = await().atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(50))
                .until(() -> status(name), s -> "preparing".equals(s) || "prepared".equals(s));
        stack.stopKafka();
        try {
            assertThat(before)
                    .as("the version was still being prepared when the broker went down")
                    .isEqualTo("preparing");
            Thread.sleep(OUTAGE.toMillis());
        } finally {
            stack.startKafka();
        }

        JsonPath version = DatasetUploadTest.awaitStatus(name, "1", "prepared");
        assertThat(version.getString("ingest.source")).isEqualTo("s3://upstream-exports/" + key);
        // A redelivery after the outage (an offset not committed in time) must not make a second version.
        assertThat(given().get("/api/datasets/{n}/versions", name)
                        .then()
                        .statusCode(200)
                        .extract()
                        .jsonPath()
                        .getList("ingest.version"))
                .containsExactly("1");
        // min 2 reads the whole window: a duplicate would show up as a second record.
        assertThat(EventTopics.read("datasets.ingested", v -> named(v, name), 2, Duration.ofSeconds(10)))
                .as("datasets.ingested events")
                .hasSize(1);
        assertThat(EventTopics.read("datasets.prepared", v -> named(v, name), 2, Duration.ofSeconds(10)))
                .as("datasets.prepared events")
                .hasSize(1);
        assertThat(EventTopics.read(
                        "datasets.submitted.dlq.dataset-service", v -> named(v, name), 1, Duration.ofSeconds(3)))
                .as("dead-lettered submissions")
                .isEmpty();
        assertThat(EventTopics.read(
                        "datasets.ingested.dlq.dataset-service-preparer",
                        v -> named(v, name),
                        1,
                        Duration.ofSeconds(3)))
                .as("dead-lettered preparations")
                .isEmpty();
    }

    private static boolean named(JsonNode value, String name) {
        return value.path("datasetName").asText().equals(name);
    }

    /** The version's status, or null while it does not exist. */
    private static String status(String name) {
        var response = given().get("/api/datasets/{n}/versions/1", name);
        return response.statusCode() == 200 ? response.jsonPath().getString("status") : null;
    }
}
