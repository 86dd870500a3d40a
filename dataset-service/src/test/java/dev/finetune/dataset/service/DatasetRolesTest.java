package dev.finetune.dataset.service;

import static dev.finetune.service.testing.RoleKeys.asAdmin;
import static dev.finetune.service.testing.RoleKeys.asOperator;
import static dev.finetune.service.testing.RoleKeys.asViewer;
import static dev.finetune.service.testing.RoleKeys.refused;
import static org.hamcrest.Matchers.equalTo;

import dev.finetune.localstack.LocalStackTestResource;
import dev.finetune.service.testing.RoleKeys;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.Test;

/** API keys with roles on the dataset-service: viewers read, operators upload, admins set triggers. */
@QuarkusTest
@TestProfile(RoleKeys.class)
@WithTestResource(LocalStackTestResource.class)
class DatasetRolesTest {
    private static final String TRIGGER = "{\"baseModel\":\"tiny-base\",\"method\":\"lora\",\"objective\":\"sft\"}";

    @Test
    void whoamiAnswersTheKeysPrincipalAndRoleAndRefusesAnUnknownKey() {
        asViewer()
                .get("/api/whoami")
                .then()
                .statusCode(200)
                .body("principal", equalTo("vic"))
                .body("role", equalTo("viewer"));
        asAdmin()
                .get("/api/whoami")
                .then()
                .statusCode(200)
                .body("principal", equalTo("ada"))
                .body("role", equalTo("admin"));
        io.restassured.RestAssured.given()
                .header("X-API-Key", "not-a-key-0123456789abcdef")
                .get("/api/whoami")
                .then()
                .statusCode(401);
    }

    @Test
    void aViewerReadsButCannotUpload() {
        asViewer().get("/api/datasets").then().statusCode(200);
        String name = DatasetUploadTest.unique("viewer");
        refused(
                        asViewer()
                                .body(DatasetUploadTest.alpaca(3))
                                .post("/api/datasets/{n}/versions", name)
                                .then(),
                        "operator",
                        "viewer")
                .body("instance", equalTo("/api/datasets/" + name + "/versions"));
        asViewer()
                .get("/api/datasets/{n}/versions", name)
                .then()
                .statusCode(200)
                .body("size()", equalTo(0));
    }

    @Test
    void anOperatorUploadsButCannotSetATriggerAndAnAdminCan() {
        String name = DatasetUploadTest.unique("operator");
        asOperator()
                .body(DatasetUploadTest.alpaca(3))
                .post("/api/datasets/{n}/versions", name)
                .then()
                .statusCode(201)
                .body("version", equalTo("1"));

        refused(
                asOperator()
                        .contentType("application/json")
                        .body(TRIGGER)
                        .put("/api/datasets/{n}/trigger", name)
                        .then(),
                "admin",
                "operator");
        refused(asOperator().delete("/api/datasets/{n}/trigger", name).then(), "admin", "operator");
        asViewer().get("/api/datasets/{n}/trigger", name).then().statusCode(404);

        asAdmin()
                .contentType("application/json")
                .body(TRIGGER)
                .put("/api/datasets/{n}/trigger", name)
                .then()
                .statusCode(200)
                .body("baseModel", equalTo("tiny-base"));
        asViewer().get("/api/datasets/{n}/trigger", name).then().statusCode(200);
    }
}
