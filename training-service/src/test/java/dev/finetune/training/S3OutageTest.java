package dev.finetune.training;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.finetune.localstack.LocalStack;
import dev.finetune.localstack.LocalStackTestResource;
import dev.finetune.localstack.SharedLocalStack;
import dev.finetune.service.testing.EventTopics;
import dev.finetune.storage.ObjectStore;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.Map;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Test;

/**
 * An object-store outage shorter than the retry budget in the middle of a training job: its
 * checkpoint and end-of-run writes wait for the store, and the job succeeds once, with one final
 * checkpoint event.
 */
@QuarkusTest
@WithTestResource(LocalStackTestResource.class)
class S3OutageTest {
    private static final Duration OUTAGE = Duration.ofSeconds(15);

    @Inject
    ObjectStore store;

    /** The outage meets checkpoint uploads and progress reports; training goes on meanwhile. */
    @Test
    void aJobThatMeetsAnS3OutageMidRunSucceedsOnceWhenTheStoreReturns() throws Exception {
        runThroughAnOutage(200, 20);
    }

    /**
     * The job trains its last steps while the store is away (a tiny step takes ~10 ms, and progress
     * reports that fail no longer hold steps up: 600 steps end a few seconds into the outage), so its
     * result upload, final state and lease release meet the outage.
     */
    @Test
    void aJobThatEndsDuringAnS3OutageSucceedsOnceWhenTheStoreReturns() throws Exception {
        runThroughAnOutage(600, 1000);
    }

    private void runThroughAnOutage(int maxSteps, int saveSteps) throws Exception {
        LocalStack stack = SharedLocalStack.get();
        assertThat(stack.s3Endpoint())
                .as("the stack this test stops is the one the service uses")
                .isEqualTo(ConfigProvider.getConfig().getValue("pipeline.object-store.endpoint", String.class));
        Fixtures.baseModel(store, "tiny-qwen3");
        Fixtures.sftDataset(store, "qa");
        String id = JobLifecycleTest.create(Fixtures.loraSftJob(
                "tiny-qwen3",
                "qa",
                Map.of(
                        "max_steps",
                        maxSteps,
                        "save_steps",
                        saveSteps,
                        "per_device_train_batch_size",
                        2,
                        "max_seq_length",
                        32)));
        await().atMost(Duration.ofSeconds(120))
                .pollInterval(Duration.ofMillis(50))
                .until(() -> given().get("/api/jobs/{id}", id)
                                .then()
                                .extract()
                                .jsonPath()
                                .getLong("step")
                        >= 5);

        stack.stopS3();
        try {
            Thread.sleep(OUTAGE.toMillis());
        } finally {
            stack.startS3();
        }

        JsonPath job = JobLifecycleTest.awaitState(id, "succeeded");
        assertThat(job.getLong("step")).isEqualTo(maxSteps);
        assertThat(store.exists("checkpoints/" + id + "/step-" + maxSteps + "/adapter_model.safetensors"))
                .isTrue();
        JsonPath events = given().get("/api/jobs/{id}/events?limit=1000", id)
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();
        assertThat(events.getList("findAll { it.kind == 'state' && it.state == 'succeeded' }"))
                .hasSize(1);
        assertThat(EventTopics.read(
                        "checkpoints.created",
                        v -> v.path("jobId").asText().equals(id)
                                && v.path("isFinal").asBoolean(),
                        1,
                        Duration.ofSeconds(20)))
                .hasSize(1);
        assertThat(EventTopics.read(
                        "training.jobs.dlq.training-workers",
                        v -> v.path("jobId").asText().equals(id),
                        0,
                        Duration.ofSeconds(3)))
                .isEmpty();
    }
}
