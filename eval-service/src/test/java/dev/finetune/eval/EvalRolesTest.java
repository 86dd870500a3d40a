package dev.finetune.eval;

import static dev.finetune.service.testing.RoleKeys.asOperator;
import static dev.finetune.service.testing.RoleKeys.asViewer;
import static dev.finetune.service.testing.RoleKeys.refused;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.startsWith;

import dev.finetune.localstack.LocalStackTestResource;
import dev.finetune.service.testing.RoleKeys;
import dev.finetune.storage.ObjectStore;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** API keys with roles on the eval-service: viewers read results, operators request evaluations. */
@QuarkusTest
@TestProfile(RoleKeys.class)
@WithTestResource(LocalStackTestResource.class)
class EvalRolesTest {
    @Inject
    ObjectStore store;

    @Test
    void aViewerReadsButCannotRequestAnEvaluationAndAnOperatorCan() throws Exception {
        Fixtures.prepare(store);
        String job = "roles-" + UUID.randomUUID().toString().substring(0, 8);
        Map<String, Object> request = Map.of(
                "baseModel",
                Fixtures.BASE,
                "checkpointPrefix",
                Fixtures.freshCheckpoint(store, job, 1),
                "dataset",
                Map.of("name", Fixtures.DATASET, "version", "1"));

        asViewer()
                .get("/api/evaluations?jobId={job}", job)
                .then()
                .statusCode(200)
                .body("size()", equalTo(0));
        refused(
                asViewer()
                        .contentType("application/json")
                        .body(request)
                        .post("/api/evaluations")
                        .then(),
                "operator",
                "viewer");

        String id = asOperator()
                .contentType("application/json")
                .body(request)
                .post("/api/evaluations")
                .then()
                .statusCode(202)
                .body("evaluationId", startsWith("eval-"))
                .extract()
                .path("evaluationId");
        asViewer().get("/api/evaluations/{id}", id).then().statusCode(org.hamcrest.Matchers.oneOf(200, 202));
    }
}
