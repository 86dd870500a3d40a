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
import org.eclipse.microprofile.config.ConfigProvider;
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
                .body("checks.name", hasItems("object-store", "Kafka connection health check"));
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
