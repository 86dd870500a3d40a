package dev.finetune.registry;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import dev.finetune.localstack.LocalStackTestResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The production security setting (API keys on /api/*), applied to a real service. */
@QuarkusTest
@TestProfile(ApiKeySecurityTest.Secured.class)
@WithTestResource(LocalStackTestResource.class)
class ApiKeySecurityTest {
    static final String CI_TOKEN = "ci-token-0123456789abcdef";

    public static class Secured implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of(
                    "pipeline.security.enabled",
                    "true",
                    "pipeline.security.api-keys",
                    "ci:" + CI_TOKEN + ",alice:alice-token-0123456789abc");
        }
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
                .post("/api/diagnostics/kafka-roundtrip")
                .then()
                .statusCode(401)
                .contentType("application/problem+json")
                .body("detail", equalTo("the API key is not known"));
    }

    @Test
    void bearerTokenAndApiKeyHeaderAreBothAccepted() {
        given().header("Authorization", "Bearer " + CI_TOKEN)
                .when()
                .post("/api/diagnostics/kafka-roundtrip")
                .then()
                .statusCode(200);
        given().header("X-API-Key", "alice-token-0123456789abc")
                .when()
                .post("/api/diagnostics/kafka-roundtrip")
                .then()
                .statusCode(200);
    }

    @Test
    void healthAndOpenApiStayOpenForProbes() {
        given().when().get("/q/health/ready").then().statusCode(200).body("status", equalTo("UP"));
        given().when().get("/q/openapi").then().statusCode(200);
    }
}
