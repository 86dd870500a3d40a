package dev.finetune.training;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import dev.finetune.localstack.LocalStackTestResource;
import dev.finetune.storage.ObjectStore;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * A job whose planned tokens exceed the service's budget (1,000,000 in the test profile) is refused
 * before it is queued, however it comes in.
 */
@QuarkusTest
@WithTestResource(LocalStackTestResource.class)
class TokenBudgetTest {

    @Inject
    ObjectStore store;

    @Inject
    dev.finetune.training.trigger.DatasetTriggers triggers;

    @Test
    void epochsOverTheDatasetsTokensPastTheBudgetAreRefusedWithBothNumbersAndWhatWouldFit() throws Exception {
        String dataset = dataset(600_000);
        refuse(
                Map.of("num_train_epochs", 3),
                dataset,
                "the job would train on 1800000 tokens (num_train_epochs 3 x 600000 tokens of " + dataset
                        + "@1's train split), more than the 1000000 one job may (pipeline.training.max-job-tokens);"
                        + " it would fit with num_train_epochs <= 1.66, or with pipeline.training.max-job-tokens"
                        + " >= 1800000");
    }

    @Test
    void stepsTimesFullBatchesPastTheBudgetAreRefusedNamingTheStepsThatFit() throws Exception {
        refuse(
                Map.of("max_steps", 10_000, "per_device_train_batch_size", 4, "max_seq_length", 48),
                dataset(600_000),
                "the job would train on 1920000 tokens (max_steps 10000 x per_device_train_batch_size x"
                        + " gradient_accumulation_steps x max_seq_length = 10000 x 192 tokens per step), more than"
                        + " the 1000000 one job may (pipeline.training.max-job-tokens); it would fit with max_steps"
                        + " <= 5208");
    }

    @Test
    void aJobWithinTheBudgetIsAccepted() throws Exception {
        given().contentType("application/json")
                .body(JobLifecycleTest.sftJob(dataset(600_000), Map.of("num_train_epochs", 1, "max_seq_length", 32)))
                .post("/api/jobs")
                .then()
                .statusCode(201);
    }

    @Test
    void aTriggersJobPastTheBudgetFailsWithTheSameReason() throws Exception {
        String dataset = dataset(600_000);
        triggers.apply(dev.finetune.events.EventJson.read(
                "{\"datasetId\":\"" + dataset + "@1\",\"datasetName\":\"" + dataset + "\",\"version\":\"1\","
                        + "\"kind\":\"sft\",\"trigger\":{\"baseModel\":\"tiny-qwen3\",\"method\":\"lora\","
                        + "\"objective\":\"sft\",\"hyperparameters\":{\"num_train_epochs\":2}}}",
                dev.finetune.events.DatasetPrepared.class));

        JsonPath job = JobLifecycleTest.awaitState("ds-" + dataset + "-1", "failed");
        assertThat(job.getString("failureReason"))
                .contains("the job would train on 1200000 tokens")
                .contains("pipeline.training.max-job-tokens")
                .contains("num_train_epochs <= 1.66");
    }

    private String dataset(long trainTokens) throws Exception {
        Fixtures.baseModel(store, "tiny-qwen3");
        String name = "budget-" + UUID.randomUUID().toString().substring(0, 8);
        Fixtures.sftDatasetWithStats(store, name, trainTokens);
        return name;
    }

    private static void refuse(Map<String, Object> hyperparameters, String dataset, String message) {
        given().contentType("application/json")
                .body(JobLifecycleTest.sftJob(dataset, hyperparameters))
                .post("/api/jobs")
                .then()
                .statusCode(400)
                .contentType("application/problem+json")
                .body("field", equalTo("hyperparameters"))
                .body("detail", containsString(message));
    }
}
