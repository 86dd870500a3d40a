package dev.finetune.service;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.hasItems;
import static org.hamcrest.Matchers.matchesPattern;

import io.restassured.RestAssured;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Optional;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * What every pipeline service promises its operators, run by each service's own
 * {@code @QuarkusTest} subclass against the real broker and S3 server of the local stack.
 */
public abstract class ServiceContractTest {

    @Test
    void readinessReportsTheRealBrokerAndObjectStoreUp() {
        given().when()
                .get("/q/health/ready")
                .then()
                .statusCode(200)
                .body("status", equalTo("UP"))
                .body("checks.name", hasItems("object-store", "kafka"))
                .body("checks.find { it.name == 'kafka' }.data.nodes", containsString("127.0.0.1:"));
    }

    @Test
    void livenessIsUp() {
        given().when().get("/q/health/live").then().statusCode(200).body("status", equalTo("UP"));
    }

    @Test
    void openApiDocumentNamesTheServiceAndItsEndpoints() {
        String name = ConfigProvider.getConfig().getValue("quarkus.application.name", String.class);
        given().when()
                .get("/q/openapi?format=json")
                .then()
                .statusCode(200)
                .body("info.title", equalTo(name + " API"))
                .body(containsString("/api/diagnostics/kafka-roundtrip"));
    }

    @Test
    void kafkaRoundTripProbeComesBackToThisInstance() {
        given().when()
                .post("/api/diagnostics/kafka-roundtrip")
                .then()
                .statusCode(200)
                .body("topic", equalTo("pipeline.diagnostics"))
                .body("roundTripMillis", greaterThan(0f))
                .body("traceId", matchesPattern("[0-9a-f]{32}"));
    }

    /**
     * An endpoint of the service that takes a JSON object, for the checks of how bad JSON is
     * answered; empty for a service without one whose shape is settled.
     *
     * @param method POST or PUT
     * @param path the path, with any parameter filled in
     * @param field a field of the body, which the checks misspell by dropping its last letter
     */
    public record JsonEndpoint(String method, String path, String field) {}

    protected Optional<JsonEndpoint> jsonEndpoint() {
        return Optional.empty();
    }

    @Test
    void anUnknownPathIsAProblemDetails404NamingThePath() {
        given().when()
                .get("/api/diagnostics/no-such-thing")
                .then()
                .statusCode(404)
                .contentType("application/problem+json")
                .body("type", equalTo("https://finetune.dev/problems/not-found"))
                .body("title", equalTo("Not found"))
                .body("status", equalTo(404))
                .body("instance", equalTo("/api/diagnostics/no-such-thing"));
    }

    @Test
    void aPathNoEndpointServesIsAProblemDetails404() {
        given().when()
                .get("/api/no-such-resource")
                .then()
                .statusCode(404)
                .contentType("application/problem+json")
                .body("type", equalTo("https://finetune.dev/problems/not-found"))
                .body("instance", equalTo("/api/no-such-resource"));
    }

    @Test
    void aMethodTheEndpointDoesNotTakeIsA405Problem() {
        given().when()
                .get("/api/diagnostics/kafka-roundtrip")
                .then()
                .statusCode(405)
                .contentType("application/problem+json")
                .body("type", equalTo("about:blank"))
                .body("title", equalTo("Method Not Allowed"))
                .body("instance", equalTo("/api/diagnostics/kafka-roundtrip"));
    }

    @Test
    void malformedJsonIsA400ProblemNamingThePosition() {
        JsonEndpoint endpoint = jsonEndpoint().orElse(null);
        Assumptions.assumeTrue(endpoint != null, "this service names no JSON endpoint");
        given().contentType("application/json")
                .body("{\"" + endpoint.field() + "\": ")
                .request(endpoint.method(), endpoint.path())
                .then()
                .statusCode(400)
                .contentType("application/problem+json")
                .body("type", equalTo("https://finetune.dev/problems/invalid-json"))
                .body("detail", containsString("at line 1, column "))
                .body("instance", equalTo(endpoint.path()));
    }

    @Test
    void anUnknownFieldIsA400ProblemNamingTheFieldAndTheClosestKnownOne() {
        JsonEndpoint endpoint = jsonEndpoint().orElse(null);
        Assumptions.assumeTrue(endpoint != null, "this service names no JSON endpoint");
        String misspelt = endpoint.field().substring(0, endpoint.field().length() - 1);
        given().contentType("application/json")
                .body("{\"" + misspelt + "\": 1}")
                .request(endpoint.method(), endpoint.path())
                .then()
                .statusCode(400)
                .contentType("application/problem+json")
                .body("type", equalTo("https://finetune.dev/problems/unknown-field"))
                .body("field", equalTo(misspelt))
                .body("detail", containsString("did you mean '" + endpoint.field() + "'?"));
    }

    @Test
    void requestBodyOverTheLimitIsRefusedWith413() throws Exception {
        long limit = ConfigProvider.getConfig()
                .getValue("quarkus.http.limits.max-body-size", io.quarkus.runtime.configuration.MemorySize.class)
                .asLongValue();
        byte[] body = new byte[(int) limit + 1024 * 1024];
        // Expect: 100-continue lets the server refuse on Content-Length before the body is sent, as
        // well-behaved clients of large uploads do; without it the server answers 413 and closes.
        HttpRequest request = HttpRequest.newBuilder(
                        URI.create("http://localhost:" + RestAssured.port + "/api/diagnostics/kafka-roundtrip"))
                .expectContinue(true)
                .timeout(java.time.Duration.ofSeconds(30))
                .header("Content-Type", "application/octet-stream")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                .build();
        HttpResponse<String> response = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .build()
                .send(request, HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(413);
    }
}
