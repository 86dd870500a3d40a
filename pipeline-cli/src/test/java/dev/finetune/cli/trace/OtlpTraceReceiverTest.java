package dev.finetune.cli.trace;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.HexFormat;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OtlpTraceReceiverTest {
    private static final HexFormat HEX = HexFormat.of();
    private static final String TRACE = "0af7651916cd43dd8448eb211c80319c";

    @Test
    void spansPostedOverOtlpHttpAreKeptWithTheirServiceAndParent() throws Exception {
        ExportTraceServiceRequest export = ExportTraceServiceRequest.newBuilder()
                .addResourceSpans(ResourceSpans.newBuilder()
                        .setResource(Resource.newBuilder()
                                .addAttributes(KeyValue.newBuilder()
                                        .setKey("service.name")
                                        .setValue(AnyValue.newBuilder().setStringValue("eval-service"))))
                        .addScopeSpans(ScopeSpans.newBuilder()
                                .addSpans(span("b7ad6b7169203331", "", "eval.evaluation"))
                                .addSpans(span("00f067aa0ba902b7", "b7ad6b7169203331", "eval.load-data").toBuilder()
                                        .addAttributes(KeyValue.newBuilder()
                                                .setKey("job.id")
                                                .setValue(AnyValue.newBuilder().setStringValue("job-1")))
                                        .addAttributes(KeyValue.newBuilder()
                                                .setKey("eval.examples")
                                                .setValue(AnyValue.newBuilder().setIntValue(6)))
                                        .build())))
                .build();
        try (OtlpTraceReceiver receiver = OtlpTraceReceiver.start()) {
            HttpResponse<byte[]> response = HttpClient.newHttpClient()
                    .send(
                            HttpRequest.newBuilder(URI.create(receiver.endpoint() + "/v1/traces"))
                                    .header("Content-Type", "application/x-protobuf")
                                    .POST(HttpRequest.BodyPublishers.ofByteArray(export.toByteArray()))
                                    .build(),
                            HttpResponse.BodyHandlers.ofByteArray());

            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(receiver.trace(TRACE))
                    .containsExactly(
                            new CollectedSpan(
                                    TRACE, "b7ad6b7169203331", "", "eval-service", "eval.evaluation", 1500, Map.of()),
                            new CollectedSpan(
                                    TRACE,
                                    "00f067aa0ba902b7",
                                    "b7ad6b7169203331",
                                    "eval-service",
                                    "eval.load-data",
                                    1500,
                                    Map.of("job.id", "job-1")));
            assertThat(receiver.trace("ffffffffffffffffffffffffffffffff")).isEmpty();
        }
    }

    @Test
    void somethingThatIsNotAnExportIsRefused() throws Exception {
        try (OtlpTraceReceiver receiver = OtlpTraceReceiver.start()) {
            HttpResponse<Void> response = HttpClient.newHttpClient()
                    .send(
                            HttpRequest.newBuilder(URI.create(receiver.endpoint() + "/v1/traces"))
                                    .POST(HttpRequest.BodyPublishers.ofByteArray(new byte[] {(byte) 0xff, 0x01, 0x02}))
                                    .build(),
                            HttpResponse.BodyHandlers.discarding());
            assertThat(response.statusCode()).isEqualTo(400);
            assertThat(receiver.spans()).isEmpty();
        }
    }

    private static Span span(String id, String parent, String name) {
        return Span.newBuilder()
                .setTraceId(ByteString.copyFrom(HEX.parseHex(TRACE)))
                .setSpanId(ByteString.copyFrom(HEX.parseHex(id)))
                .setParentSpanId(ByteString.copyFrom(HEX.parseHex(parent)))
                .setName(name)
                .setStartTimeUnixNano(1_000)
                .setEndTimeUnixNano(2_500)
                .build();
    }
}
