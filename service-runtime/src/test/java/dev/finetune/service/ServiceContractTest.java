package dev.finetune.service;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.hasItems;
import static org.hamcrest.Matchers.matchesPattern;

import dev.finetune.service.testing.Scrape;
import io.restassured.RestAssured;
import io.smallrye.reactive.messaging.kafka.KafkaClientService;
import jakarta.enterprise.inject.spi.CDI;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Map;
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
    void metricsAreServedInPrometheusFormatWithJvmHttpAndObjectStoreMeters() {
        // Quarkus leaves its own /q/* endpoints out of the HTTP meters: an /api request is counted.
        given().when().get("/api/no-such-resource").then().statusCode(404);
        given().when().get("/q/health/ready").then().statusCode(200); // calls the object store
        Scrape scrape = Scrape.now();
        assertThat(scrape.has("jvm_memory_used_bytes", Map.of())).isTrue();
        assertThat(scrape.value("http_server_requests_seconds_count", Map.of("method", "GET", "status", "404")))
                .isGreaterThanOrEqualTo(1);
        assertThat(scrape.value(
                        "finetune_object_store_request_duration_seconds_count",
                        Map.of("operation", "ensure_bucket", "outcome", "success")))
                .isGreaterThanOrEqualTo(1);
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

    /**
     * SmallRye's default, acks=1, silently turns the Kafka client's idempotence off: then the
     * producer's own retries after a broker restart can write an event twice.
     */
    @Test
    void everyProducerWaitsForAllReplicasAndIsIdempotent() {
        KafkaClientService kafka =
                CDI.current().select(KafkaClientService.class).get();
        assertThat(kafka.getProducerChannels()).isNotEmpty();
        for (String channel : kafka.getProducerChannels()) {
            Map<String, ?> config = kafka.getProducer(channel).configuration();
            assertThat(config.get("acks")).as(channel + " acks").isEqualTo("all");
            assertThat(config.get("enable.idempotence"))
                    .as(channel + " enable.idempotence")
                    .isEqualTo("true");
        }
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
    void aBodyNotDeclaredAsJsonIsA415ProblemAndIsNotRead() throws Exception {
        JsonEndpoint endpoint = jsonEndpoint().orElse(null);
        Assumptions.assumeTrue(endpoint != null, "this service names no JSON endpoint");
        String json = "{\"" + endpoint.field() + "\": 1}";
        given().contentType("text/plain")
                .body(json)
                .request(endpoint.method(), endpoint.path())
                .then()
                .statusCode(415)
                .contentType("application/problem+json")
                .body("type", equalTo("https://finetune.dev/problems/unsupported-media-type"))
                .body("title", equalTo("Unsupported media type"))
                .body("detail", containsString("reads application/json bodies, got 'text/plain"))
                .body("instance", equalTo(endpoint.path()));
        // No Content-Type at all: a body of unknown type is not taken for JSON either.
        HttpResponse<String> untyped = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .build()
                .send(
                        HttpRequest.newBuilder(URI.create("http://localhost:" + RestAssured.port + endpoint.path()))
                                .timeout(java.time.Duration.ofSeconds(30))
                                .method(endpoint.method(), HttpRequest.BodyPublishers.ofString(json))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        assertThat(untyped.statusCode()).isEqualTo(415);
        assertThat(untyped.headers().firstValue("Content-Type")).contains("application/problem+json");
        assertThat(untyped.body()).contains("unsupported-media-type");
    }

    @Test
    void requestBodyOverTheLimitIsRefusedWith413ProblemNamingTheLimit() throws Exception {
        long limit = ConfigProvider.getConfig()
                .getValue("quarkus.http.limits.max-body-size", io.quarkus.runtime.configuration.MemorySize.class)
                .asLongValue();
        // Expect: 100-continue lets the server refuse on Content-Length before the body is sent, as
        // well-behaved clients of large uploads do. A raw socket, because the JDK client (17) waits
        // for ever on a refusal that has a body; the server closes the connection after answering.
        try (Socket socket = new Socket("localhost", RestAssured.port)) {
            socket.setSoTimeout(30_000);
            socket.getOutputStream()
                    .write(("POST /api/diagnostics/kafka-roundtrip HTTP/1.1\r\nHost: localhost\r\n"
                                    + "Content-Type: application/octet-stream\r\nContent-Length: " + (limit + 1)
                                    + "\r\nExpect: 100-continue\r\n\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
            String response = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(response)
                    .startsWith("HTTP/1.1 413 ")
                    .containsIgnoringCase("content-type: application/problem+json")
                    .contains("\"type\":\"https://finetune.dev/problems/payload-too-large\"")
                    .contains("at most " + limit + " bytes (quarkus.http.limits.max-body-size)")
                    .contains("\"instance\":\"/api/diagnostics/kafka-roundtrip\"");
        }
    }
}
