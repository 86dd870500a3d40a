package dev.finetune.training;

import static dev.finetune.service.testing.RoleKeys.asOperator;
import static dev.finetune.service.testing.RoleKeys.asViewer;
import static dev.finetune.service.testing.RoleKeys.refused;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;

import dev.finetune.localstack.LocalStackTestResource;
import dev.finetune.service.testing.RoleKeys;
import dev.finetune.storage.ObjectStore;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** API keys with roles on the training-service: viewers read jobs, operators create and cancel them. */
@QuarkusTest
@TestProfile(RoleKeys.class)
@WithTestResource(LocalStackTestResource.class)
class TrainingRolesTest {
    @Inject
    ObjectStore store;

    @Test
    void aViewerReadsJobsButCannotCreateOneAndAnOperatorCanCreateAndCancel() throws Exception {
        Fixtures.baseModel(store, "tiny-qwen3");
        Fixtures.sftDataset(store, "qa");
        Map<String, Object> job = JobLifecycleTest.sftJob(
                "qa", Map.of("max_steps", 200, "per_device_train_batch_size", 2, "max_seq_length", 32));

        refused(
                asViewer()
                        .contentType("application/json")
                        .body(job)
                        .post("/api/jobs")
                        .then(),
                "operator",
                "viewer");

        String id = asOperator()
                .contentType("application/json")
                .body(job)
                .post("/api/jobs")
                .then()
                .statusCode(201)
                .extract()
                .path("id");
        asViewer().get("/api/jobs").then().statusCode(200).body("id", hasItem(id));
        asViewer().get("/api/jobs/{id}", id).then().statusCode(200).body("id", equalTo(id));

        refused(asViewer().post("/api/jobs/{id}/cancel", id).then(), "operator", "viewer");
        asOperator().post("/api/jobs/{id}/cancel", id).then().statusCode(200);
    }
}
