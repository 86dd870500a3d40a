package dev.finetune.service.testing;

import static io.restassured.RestAssured.given;

import io.quarkus.test.junit.QuarkusTestProfile;
import io.restassured.response.ValidatableResponse;
import io.restassured.specification.RequestSpecification;
import java.util.Map;
import org.hamcrest.Matchers;

/**
 * The production security setting (API keys on {@code /api/*}) with one key per role, for a
 * service's {@code @TestProfile}: {@code vic} is a viewer, {@code olga} an operator, {@code ada} an
 * admin.
 */
public class RoleKeys implements QuarkusTestProfile {
    public static final String VIEWER_TOKEN = "viewer-token-0123456789abcdef";
    public static final String OPERATOR_TOKEN = "operator-token-0123456789abcdef";
    public static final String ADMIN_TOKEN = "admin-token-0123456789abcdef";

    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of(
                "pipeline.security.enabled",
                "true",
                "pipeline.security.api-keys",
                "vic:viewer:" + VIEWER_TOKEN + ",olga:operator:" + OPERATOR_TOKEN + ",ada:admin:" + ADMIN_TOKEN);
    }

    public static RequestSpecification asViewer() {
        return given().header("Authorization", "Bearer " + VIEWER_TOKEN);
    }

    public static RequestSpecification asOperator() {
        return given().header("Authorization", "Bearer " + OPERATOR_TOKEN);
    }

    public static RequestSpecification asAdmin() {
        return given().header("X-API-Key", ADMIN_TOKEN);
    }

    /** A 403 as problem details that name the role the call needs and the role the caller has. */
    public static ValidatableResponse refused(ValidatableResponse response, String requiredRole, String callerRole) {
        return response.statusCode(403)
                .contentType("application/problem+json")
                .body("type", Matchers.equalTo("https://finetune.dev/problems/forbidden"))
                .body("requiredRole", Matchers.equalTo(requiredRole))
                .body("callerRole", Matchers.equalTo(callerRole))
                .body("detail", Matchers.containsString("needs the role '" + requiredRole + "'"))
                .body("detail", Matchers.containsString("has the role '" + callerRole + "'"));
    }
}
