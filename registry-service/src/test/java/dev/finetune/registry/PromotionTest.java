package dev.finetune.registry;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import dev.finetune.events.EvaluationStatus;
import dev.finetune.localstack.LocalStackTestResource;
import dev.finetune.storage.ObjectStore;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A model's promotion rule guards its production alias, on request and when promoting automatically. */
@QuarkusTest
@WithTestResource(LocalStackTestResource.class)
class PromotionTest {
    @Inject
    ObjectStore store;

    @Test
    void theGateRefusesWithTheFailedRulesAndTheirNumbersAndAutoPromotesOnlyWhatPasses() throws Exception {
        String dataset = Pipeline.unique("gated");
        String model = Pipeline.modelOf(dataset);
        // The rule exists before the first version, as a team would set it up.
        given().contentType("application/json")
                .body(Map.of("requirePassed", true, "metric", "eval_loss", "autoPromote", true))
                .put("/api/models/{m}/policy", model)
                .then()
                .statusCode(200)
                .body("alias", org.hamcrest.Matchers.equalTo("production"));

        Pipeline.register(store, Pipeline.unique("job"), dataset, 51, Map.of("eval_loss", 2.00));
        assertThat(production(model).getLong("version"))
                .as("v1 had nothing to beat")
                .isEqualTo(1);

        Pipeline.register(
                store, Pipeline.unique("job"), dataset, 52, EvaluationStatus.GATES_FAILED, Map.of("eval_loss", 2.10));
        assertThat(production(model).getLong("version"))
                .as("v2 failed its evaluation and is worse")
                .isEqualTo(1);

        JsonPath refused = given().contentType("application/json")
                .body(Map.of("version", 2))
                .put("/api/models/{m}/aliases/production", model)
                .then()
                .statusCode(422)
                .extract()
                .jsonPath();
        assertThat(refused.getString("detail"))
                .contains("promotion of " + model + " version 2 to production refused")
                .contains("the evaluation of version 2 is gates_failed (required: passed)")
                .contains("eval_loss 2.1000 vs 2.0000 of production version 1: improvement -0.1000, required > 0");
        assertThat(refused.getList("decision.checks.passed", Boolean.class)).containsExactly(false, false);
        assertThat(refused.getLong("decision.currentVersion")).isEqualTo(1);

        // Other aliases are not guarded.
        given().contentType("application/json")
                .body(Map.of("version", 2))
                .put("/api/models/{m}/aliases/staging", model)
                .then()
                .statusCode(200);

        Pipeline.register(store, Pipeline.unique("job"), dataset, 53, Map.of("eval_loss", 1.90));
        JsonPath production = production(model);
        assertThat(production.getLong("version")).as("v3 passed and beats v1").isEqualTo(3);
        assertThat(production.getList("history.to", Long.class)).containsExactly(1L, 3L);
        assertThat(production.getList("history.actor", String.class)).containsOnly("pipeline");
        assertThat(production.getList("history.reason", String.class))
                .containsOnly("automatic promotion on registration");

        JsonPath dryRun = given().get("/api/models/{m}/versions/2/promotion", model)
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();
        assertThat(dryRun.getBoolean("allowed")).isFalse();
        assertThat(dryRun.getString("checks[1].detail")).contains("vs 1.9000 of production version 3");
    }

    private static JsonPath production(String model) {
        return given().get("/api/models/{m}/aliases/production", model)
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();
    }
}
