package dev.finetune.eval;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import dev.finetune.events.Topics;
import dev.finetune.localstack.LocalStackTestResource;
import dev.finetune.service.testing.EventTopics;
import dev.finetune.storage.ObjectStore;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

@QuarkusTest
@WithTestResource(LocalStackTestResource.class)
class EvaluationApiTest {
    @Inject
    ObjectStore store;

    @BeforeEach
    void inputs() throws Exception {
        Fixtures.prepare(store);
    }

    @Test
    void requestedEvaluationOfAnyAdapterReportsMetricsBaseAndRequestedGates() throws Exception {
        String prefix = Fixtures.trainedCheckpoint(
                store, "api-" + UUID.randomUUID().toString().substring(0, 8), 40);
        JsonPath report = adHoc(prefix, Map.of("maxEvalLossRatio", 0.0, "minRougeL", 0.0));

        assertThat(report.getString("status")).isEqualTo("gates_failed");
        assertThat(report.getString("method")).isEqualTo("adapter");
        assertThat(report.getDouble("metrics.eval_loss")).isLessThan(report.getDouble("baseMetrics.eval_loss"));
        assertThat(report.getList("gates.passed", Boolean.class)).containsExactly(false, true);
        assertThat(report.getString("gates[0].detail")).matches("eval_loss \\d+\\.\\d{4} vs required <= 0\\.0000");
        assertThat(report.getList("generations")).hasSize(4);
    }

    /**
     * KTO's data: reward_margin is the desirable completions' mean summed log p minus the undesirable
     * ones'. The base model is near uniform, so the desirable answers (a number: a few tokens) beat
     * the refusals ("I cannot say.": many more tokens, each about log V less likely) by tens of nats;
     * swapped labels would make it negative. Its improvement is checkpoint minus base, beta times
     * which is KTO's reward margin.
     */
    @Test
    void labelledCompletionsAreScoredByTheirRewardMargin() throws Exception {
        String prefix = Fixtures.trainedCheckpoint(
                store, "kto-" + UUID.randomUUID().toString().substring(0, 8), 40);
        String id = given().contentType("application/json")
                .body(Map.of(
                        "baseModel",
                        Fixtures.BASE,
                        "checkpointPrefix",
                        prefix,
                        "dataset",
                        Map.of("name", Fixtures.LABELLED_DATASET, "version", "1")))
                .post("/api/evaluations")
                .then()
                .statusCode(202)
                .extract()
                .path("evaluationId");

        JsonPath report = await().atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(300))
                .until(
                        () -> given().get("/api/evaluations/{id}", id)
                                .then()
                                .extract()
                                .jsonPath(),
                        json -> !"running".equals(json.getString("status")));

        assertThat(report.getString("status")).isNotEqualTo("error");
        double base = report.getDouble("baseMetrics.reward_margin");
        double checkpoint = report.getDouble("metrics.reward_margin");
        assertThat(base).isGreaterThan(50);
        assertThat(checkpoint).isNotEqualTo(base);
        assertThat(report.getDouble("improvement.reward_margin")).isCloseTo(checkpoint - base, within(1e-3));
        assertThat(report.getMap("metrics")).doesNotContainKey("preference_accuracy");
        assertThat(report.getList("generations"))
                .as("the desirable test examples: 40 and 42")
                .hasSize(2);
    }

    @Test
    void theBaselinesGatePassesATrainedAdapterAndFailsOneThatChangesNothing() throws Exception {
        Map<String, Object> gates = Map.of("minImprovementOverBaselines", 0.01, "baselineMetric", "eval_loss");
        JsonPath trained = adHoc(
                Fixtures.trainedCheckpoint(
                        store, "api-" + UUID.randomUUID().toString().substring(0, 8), 40),
                gates);
        JsonPath fresh = adHoc(
                Fixtures.freshCheckpoint(
                        store, "api-" + UUID.randomUUID().toString().substring(0, 8), 1),
                gates);

        assertThat(trained.getString("status")).isEqualTo("passed");
        assertThat(trained.getString("gates[0].gate")).isEqualTo("eval_loss beats the best baseline by >= 0.0100");
        assertThat(fresh.getString("status")).isEqualTo("gates_failed");
        // The fresh adapter is the zero-shot base exactly, so it cannot beat the better baseline.
        assertThat(fresh.getString("gates[0].detail"))
                .matches("eval_loss \\d+\\.\\d{4} vs (zero-shot|prompted) base \\d+\\.\\d{4}: improvement"
                        + " -?\\d+\\.\\d{4} vs required >= 0\\.0100");
        assertThat(fresh.getDouble("promptBaselineMetrics.eval_loss")).isPositive();
        assertThat(fresh.getList("promptBaseline.examples")).hasSize(3);
    }

    /** Requests an evaluation of {@code prefix} with {@code gates} and waits for its report. */
    static JsonPath adHoc(String prefix, Map<String, Object> gates) {
        return adHoc(prefix, Fixtures.DATASET, gates);
    }

    /** Requests an evaluation of {@code prefix} on version 1 of {@code dataset} and waits for its report. */
    static JsonPath adHoc(String prefix, String dataset, Map<String, Object> gates) {
        String id = given().contentType("application/json")
                .body(Map.of(
                        "baseModel",
                        Fixtures.BASE,
                        "checkpointPrefix",
                        prefix,
                        "dataset",
                        Map.of("name", dataset, "version", "1"),
                        "gates",
                        gates))
                .post("/api/evaluations")
                .then()
                .statusCode(202)
                .extract()
                .path("evaluationId");
        return await().atMost(Duration.ofSeconds(120))
                .pollInterval(Duration.ofMillis(300))
                .until(
                        () -> given().get("/api/evaluations/{id}", id)
                                .then()
                                .extract()
                                .jsonPath(),
                        json -> !"running".equals(json.getString("status")));
    }

    @Test
    void checkpointResultsAreReadableByIdAndByJob() throws Exception {
        String job = "api-" + UUID.randomUUID().toString().substring(0, 8);
        String prefix = Fixtures.freshCheckpoint(store, job, 2);
        Broker.publish(Broker.checkpoint(job, 2, prefix), "checkpoint:" + prefix, null);
        Broker.evaluations(job + "-step-2", 1, Duration.ofSeconds(60));

        given().get("/api/evaluations/{id}", job + "-step-2")
                .then()
                .statusCode(200)
                .body("reportKey", containsString(prefix + "evaluation.json"));
        assertThat(given().get("/api/evaluations?jobId={job}", job)
                        .then()
                        .statusCode(200)
                        .extract()
                        .jsonPath()
                        .getList("evaluationId"))
                .containsExactly(job + "-step-2");
    }

    @Test
    void evaluatingAMissingCheckpointIs404NamingItAndStartsNothing() throws Exception {
        String missing = "checkpoints/missing-" + UUID.randomUUID().toString().substring(0, 8) + "/step-3/";
        long acceptedBefore = acceptedMarkers();
        given().contentType("application/json")
                .body(Map.of(
                        "baseModel",
                        Fixtures.BASE,
                        "checkpointPrefix",
                        missing,
                        "dataset",
                        Map.of("name", Fixtures.DATASET, "version", "1")))
                .post("/api/evaluations")
                .then()
                .statusCode(404)
                .contentType("application/problem+json")
                .body("type", equalTo("https://finetune.dev/problems/not-found"))
                .body("detail", containsString("no checkpoint at '" + missing + "'"))
                .body("instance", equalTo("/api/evaluations"));

        assertThat(acceptedMarkers()).isEqualTo(acceptedBefore);
        assertThat(EventTopics.read(
                        Topics.EVALUATIONS_COMPLETED,
                        v -> missing.equals(v.path("checkpointPrefix").asText()),
                        1,
                        Duration.ofSeconds(5)))
                .isEmpty();
    }

    /** Ad-hoc evaluations accepted so far: each leaves its marker when it is accepted, before it runs. */
    private long acceptedMarkers() {
        return store.list("evaluations/adhoc/").stream()
                .filter(o -> o.key().endsWith("/accepted"))
                .count();
    }

    @Test
    void unknownEvaluationsAndBadRequestsAreRefusedWithTheReason() {
        given().get("/api/evaluations/{id}", "eval-doesnotexist")
                .then()
                .statusCode(404)
                .contentType("application/problem+json")
                .body("type", equalTo("https://finetune.dev/problems/not-found"))
                .body("detail", equalTo("no evaluation 'eval-doesnotexist'"));
        given().contentType("application/json")
                .body(Map.of(
                        "baseModel",
                        "../x",
                        "checkpointPrefix",
                        "checkpoints/a/step-1/",
                        "dataset",
                        Map.of("name", "qa", "version", "1")))
                .post("/api/evaluations")
                .then()
                .statusCode(400)
                .contentType("application/problem+json")
                .body("type", equalTo("https://finetune.dev/problems/invalid-input"))
                .body("title", equalTo("Invalid input"))
                .body("field", equalTo("baseModel"))
                .body("instance", equalTo("/api/evaluations"))
                .body("detail", containsString("baseModel"));
        given().contentType("application/json")
                .body(Map.of(
                        "baseModel",
                        Fixtures.BASE,
                        "checkpointPrefix",
                        "checkpoints/a/step-1/",
                        "dataset",
                        Map.of("name", "qa", "version", "1"),
                        "gates",
                        Map.of("minExactMatch", 2)))
                .post("/api/evaluations")
                .then()
                .statusCode(400)
                .body("field", equalTo("gates.minExactMatch"))
                .body("detail", containsString("gates.minExactMatch must be between 0 and 1, got 2.0"));
        given().get("/api/evaluations")
                .then()
                .statusCode(400)
                .contentType("application/problem+json")
                .body("field", equalTo("jobId"))
                .body("detail", equalTo("jobId: a query parameter is required"));
    }
}
