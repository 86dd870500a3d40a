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
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Reporting stays off the training thread: progress is throttled to {@code report-interval} (2 s in
 * tests) however fast the steps are, and a broker that is away does not hold the steps up.
 */
@QuarkusTest
@WithTestResource(LocalStackTestResource.class)
class ReportingTest {
    @Inject
    ObjectStore store;

    @BeforeEach
    void inputs() throws Exception {
        Fixtures.baseModel(store, "tiny-qwen3");
        Fixtures.sftDataset(store, "qa");
    }

    @Test
    void progressOfManyFastStepsIsReportedAtMostOncePerInterval() {
        Duration interval = ConfigProvider.getConfig().getValue("pipeline.training.report-interval", Duration.class);
        String id = JobLifecycleTest.create(Fixtures.loraSftJob(
                "tiny-qwen3",
                "qa",
                Map.of("max_steps", 1000, "save_steps", 1000, "per_device_train_batch_size", 1, "max_seq_length", 32)));
        JobLifecycleTest.awaitState(id, "succeeded");

        JsonPath events = given().get("/api/jobs/{id}/events?limit=1000", id)
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();
        Instant running = Instant.parse(events.getString("find { it.kind == 'state' && it.state == 'running' }.at"));
        Instant succeeded =
                Instant.parse(events.getString("find { it.kind == 'state' && it.state == 'succeeded' }.at"));
        List<Integer> steps = events.getList("findAll { it.kind == 'metrics' }.metrics.step", Integer.class);
        long intervals = Duration.between(running, succeeded).toMillis() / interval.toMillis();
        // The first step at once, one report per interval, the last step: never one per step.
        assertThat(steps)
                .as("metrics events of a job of 1000 steps in %d intervals", intervals)
                .hasSizeLessThanOrEqualTo((int) intervals + 2)
                .hasSizeLessThan(1000)
                .startsWith(1)
                .endsWith(1000)
                .isSorted()
                .doesNotHaveDuplicates();
    }

    @Test
    void stepsGoOnWhileTheBrokerIsAwayAndTheEndIsRecordedOnceWhenItReturns() throws Exception {
        LocalStack stack = SharedLocalStack.get();
        assertThat(stack.kafkaBootstrapServers())
                .as("the stack this test stops is the one the service uses")
                .isEqualTo(ConfigProvider.getConfig().getValue("kafka.bootstrap.servers", String.class));
        String id = JobLifecycleTest.create(Fixtures.loraSftJob(
                "tiny-qwen3",
                "qa",
                Map.of(
                        "max_steps",
                        5000,
                        "save_steps",
                        10000,
                        "per_device_train_batch_size",
                        1,
                        "max_seq_length",
                        32)));
        await().atMost(Duration.ofSeconds(120))
                .pollInterval(Duration.ofMillis(200))
                .until(() -> step(id) >= 2);

        long before;
        long after;
        stack.stopKafka();
        try {
            Thread.sleep(3000); // the producer notices the broker is gone
            before = step(id);
            Thread.sleep(12_000);
            after = step(id);
        } finally {
            stack.startKafka();
        }
        // The record's progress comes from the reports, which still reach the store: before, each
        // step waited up to 30 s for the broker to acknowledge its metrics event.
        assertThat(after - before)
                .as("steps trained in 12 s without a broker (from step %d)", before)
                .isGreaterThanOrEqualTo(10);

        given().post("/api/jobs/{id}/cancel", id).then().statusCode(200);
        JobLifecycleTest.awaitState(id, "cancelled");
        JsonPath events = given().get("/api/jobs/{id}/events?limit=1000", id)
                .then()
                .extract()
                .jsonPath();
        assertThat(events.getList("findAll { it.kind == 'state' && it.state == 'cancelled' }"))
                .hasSize(1);
        assertThat(EventTopics.read(
                        "training.events",
                        v -> v.path("jobId").asText().equals(id)
                                && "cancelled".equals(v.path("state").asText()),
                        1,
                        Duration.ofSeconds(30)))
                .hasSize(1);
    }

    private static long step(String id) {
        return given().get("/api/jobs/{id}", id).then().extract().jsonPath().getLong("step");
    }
}
