package dev.finetune.registry;

import static dev.finetune.service.testing.RoleKeys.asAdmin;
import static dev.finetune.service.testing.RoleKeys.asOperator;
import static dev.finetune.service.testing.RoleKeys.asViewer;
import static dev.finetune.service.testing.RoleKeys.refused;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;

import dev.finetune.localstack.LocalStackTestResource;
import dev.finetune.service.testing.RoleKeys;
import dev.finetune.storage.ObjectStore;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.RestAssured;
import jakarta.inject.Inject;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** The production security setting (API keys with roles on /api/*), applied to the registry. */
@QuarkusTest
@TestProfile(RoleKeys.class)
@WithTestResource(LocalStackTestResource.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ApiKeySecurityTest {
    @Inject
    ObjectStore store;

    private String model;

    /** One registered version, by the first test that runs (the HTTP port is set per test). */
    @BeforeEach
    void oneVersion() throws Exception {
        if (model != null) {
            return;
        }
        String dataset = Pipeline.unique("roles");
        RestAssured.requestSpecification = asViewer(); // Pipeline reads the registration without a key of its own
        try {
            Pipeline.register(store, Pipeline.unique("job"), dataset, 7, Map.of("eval_loss", 2.0));
        } finally {
            RestAssured.requestSpecification = null;
        }
        model = Pipeline.modelOf(dataset);
    }

    @Test
    void apiCallWithoutAKeyIsChallengedWith401() {
        given().when()
                .post("/api/diagnostics/kafka-roundtrip")
                .then()
                .statusCode(401)
                .header("WWW-Authenticate", containsString("Bearer"))
                .contentType("application/problem+json")
                .body("type", equalTo("https://finetune.dev/problems/unauthorized"))
                .body("instance", equalTo("/api/diagnostics/kafka-roundtrip"))
                .body("detail", containsString("an API key is required"));
    }

    @Test
    void apiCallWithAnUnknownKeyIs401() {
        given().header("Authorization", "Bearer not-a-configured-token-at-all")
                .when()
                .get("/api/models")
                .then()
                .statusCode(401)
                .contentType("application/problem+json")
                .body("detail", equalTo("the API key is not known"));
    }

    @Test
    void aViewerReadsButCannotArchive() {
        asViewer().get("/api/models").then().statusCode(200).body("name", hasItem(model));
        refused(asViewer().post("/api/models/{m}/versions/1/archive", model).then(), "admin", "viewer")
                .body("instance", equalTo("/api/models/" + model + "/versions/1/archive"));
        refused(asViewer().post("/api/diagnostics/kafka-roundtrip").then(), "operator", "viewer");
    }

    @Test
    void aViewerListsBaseModelsButCannotImportOne() {
        asViewer().get("/api/base-models").then().statusCode(200);
        refused(
                asViewer()
                        .contentType("application/json")
                        .body(Map.of("name", "viewer-import", "source", "s3://elsewhere/model/"))
                        .post("/api/base-models")
                        .then(),
                "operator",
                "viewer");
    }

    @Test
    void anOperatorCannotPromoteAndAnAdminCan() {
        asOperator().post("/api/diagnostics/kafka-roundtrip").then().statusCode(200);
        refused(
                asOperator()
                        .contentType("application/json")
                        .body(Map.of("version", 1))
                        .put("/api/models/{m}/aliases/staging", model)
                        .then(),
                "admin",
                "operator");
        asViewer().get("/api/models/{m}/aliases/staging", model).then().statusCode(404);

        asAdmin()
                .contentType("application/json")
                .body(Map.of("version", 1))
                .put("/api/models/{m}/aliases/staging", model)
                .then()
                .statusCode(200)
                .body("version", equalTo(1))
                .body("history[0].actor", equalTo("ada"));
    }

    @Test
    void aRoleIsCheckedBeforeTheBodyIsRead() {
        // An operator's malformed policy is refused for the role, not for its JSON: nothing is read first.
        refused(
                asOperator()
                        .contentType("application/json")
                        .body("{\"metric\": ")
                        .put("/api/models/{m}/policy", model)
                        .then(),
                "admin",
                "operator");
    }

    @Test
    void healthOpenApiAndMetricsStayOpenForProbesAndScrapers() {
        given().when().get("/q/health/ready").then().statusCode(200).body("status", equalTo("UP"));
        given().when().get("/q/openapi").then().statusCode(200);
        given().when()
                .get("/q/metrics")
                .then()
                .statusCode(200)
                .body(containsString("finetune_registry_versions_registered_total"));
    }
}
