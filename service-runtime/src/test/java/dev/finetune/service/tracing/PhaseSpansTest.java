package dev.finetune.service.tracing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.context.Scope;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Phase spans are named {@code <area>.<phase>}, children of the current span, tagged with the id. */
class PhaseSpansTest {
    private final InMemorySpanExporter exporter = InMemorySpanExporter.create();
    private final SdkTracerProvider provider = SdkTracerProvider.builder()
            .addSpanProcessor(SimpleSpanProcessor.create(exporter))
            .build();
    private final PhaseSpans phases = new PhaseSpans(provider.get("test"), "training", "job.id");

    @Test
    void aPhaseIsAChildOfTheCurrentSpanNamedByTheRule() throws IOException {
        Span parent = provider.get("test").spanBuilder("request").startSpan();
        try (Scope ignored = parent.makeCurrent()) {
            assertThat(phases.run("load-model", "job-1", () -> "loaded")).isEqualTo("loaded");
        }
        parent.end();

        SpanData span = exporter.getFinishedSpanItems().get(0);
        assertThat(span.getName()).isEqualTo("training.load-model");
        assertThat(span.getAttributes().get(AttributeKey.stringKey("job.id"))).isEqualTo("job-1");
        assertThat(span.getParentSpanId()).isEqualTo(parent.getSpanContext().getSpanId());
        assertThat(span.getTraceId()).isEqualTo(parent.getSpanContext().getTraceId());
    }

    @Test
    void aFailedPhaseEndsWithStatusErrorAndItsExceptionPassesThrough() {
        assertThatThrownBy(() -> phases.run("upload-checkpoint", "job-2", () -> {
                    throw new IOException("the store is away");
                }))
                .isInstanceOf(IOException.class)
                .hasMessage("the store is away");

        SpanData span = exporter.getFinishedSpanItems().get(0);
        assertThat(span.getName()).isEqualTo("training.upload-checkpoint");
        assertThat(span.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
        assertThat(span.getEvents()).extracting(e -> e.getName()).containsExactly("exception");
    }

    @Test
    void namesAreLowerCaseWordsJoinedByDashes() {
        assertThat(PhaseSpans.name("eval", "load-data")).isEqualTo("eval.load-data");
        for (String bad : List.of("load model", "Load-Model", "load_model", "eval.load-data", "")) {
            assertThatThrownBy(() -> PhaseSpans.name("eval", bad)).isInstanceOf(IllegalArgumentException.class);
        }
        assertThat(exporter.getFinishedSpanItems()).isEmpty();
    }
}
