package dev.finetune.dataset;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.finetune.localstack.LocalStackTestResource;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

@QuarkusTest
@WithTestResource(LocalStackTestResource.class)
class TracePropagationTest {

    @Inject
    InMemorySpanExporter spans;

    @Test
    void traceStartedByAnHttpRequestContinuesThroughKafkaIntoTheConsumer() {
        String traceId = given().when()
                .post("/api/diagnostics/kafka-roundtrip")
                .then()
                .statusCode(200)
                .extract()
                .path("traceId");

        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            List<SpanData> trace = spans.getFinishedSpanItems().stream()
                    .filter(s -> s.getTraceId().equals(traceId))
                    .toList();
            SpanData server = only(trace, SpanKind.SERVER);
            SpanData producer = only(trace, SpanKind.PRODUCER);
            SpanData consumer = only(trace, SpanKind.CONSUMER);

            Map<String, SpanData> byId =
                    trace.stream().collect(Collectors.toMap(SpanData::getSpanId, Function.identity()));
            assertThat(ancestors(producer, byId)).contains(server.getSpanId());
            assertThat(consumer.getParentSpanId()).isEqualTo(producer.getSpanId());
            assertThat(producer.getName()).contains("pipeline.diagnostics");
        });
    }

    private static SpanData only(List<SpanData> trace, SpanKind kind) {
        List<SpanData> matching =
                trace.stream().filter(s -> s.getKind() == kind).toList();
        assertThat(matching).as("%s spans in %s", kind, trace).hasSize(1);
        return matching.get(0);
    }

    private static List<String> ancestors(SpanData span, Map<String, SpanData> byId) {
        List<String> result = new java.util.ArrayList<>();
        for (SpanData s = byId.get(span.getParentSpanId()); s != null; s = byId.get(s.getParentSpanId())) {
            result.add(s.getSpanId());
        }
        return result;
    }
}
