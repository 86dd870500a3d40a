package dev.finetune.service.tracing;

import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.util.concurrent.CompletableFuture;
import org.jboss.logging.MDC;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** A work context is in the logs (MDC) while it is open and on every span started under it. */
class WorkContextTest {
    private final InMemorySpanExporter exporter = InMemorySpanExporter.create();
    private final SdkTracerProvider provider = SdkTracerProvider.builder()
            .addSpanProcessor(new WorkAttributesSpanProcessor())
            .addSpanProcessor(SimpleSpanProcessor.create(exporter))
            .build();
    private final Tracer tracer = provider.get("test");

    @AfterEach
    void clearMdc() {
        MDC.clear();
    }

    @Test
    void fieldsAreInTheMdcWhileOpenAndThePreviousValuesComeBackOnClose() {
        MDC.put(WorkContext.JOB_ID, "outer-job");
        try (WorkContext ignored = WorkContext.builder()
                .job("job-7")
                .dataset("support", "3")
                .method("qlora", "dpo")
                .baseModel(null)
                .open()) {
            assertThat(WorkContext.current(WorkContext.JOB_ID)).hasValue("job-7");
            assertThat(WorkContext.current(WorkContext.DATASET_NAME)).hasValue("support");
            assertThat(WorkContext.current(WorkContext.DATASET_VERSION)).hasValue("3");
            assertThat(WorkContext.current(WorkContext.METHOD)).hasValue("qlora");
            assertThat(WorkContext.current(WorkContext.OBJECTIVE)).hasValue("dpo");
            assertThat(WorkContext.current(WorkContext.MODEL_BASE))
                    .as("a null value leaves its field out")
                    .isEmpty();
        }
        assertThat(WorkContext.current(WorkContext.JOB_ID)).hasValue("outer-job");
        assertThat(WorkContext.current(WorkContext.DATASET_NAME)).isEmpty();
        assertThat(WorkContext.current(WorkContext.METHOD)).isEmpty();
    }

    @Test
    void theCurrentSpanAndEverySpanStartedUnderItCarryTheFields() {
        Span consumer = tracer.spanBuilder("training.jobs receive").startSpan();
        try (Scope scope = consumer.makeCurrent();
                WorkContext ignored = WorkContext.builder()
                        .job("job-1")
                        .registryVersion("tiny-chat-support", 4)
                        .open()) {
            Span phase = tracer.spanBuilder("training.train").startSpan();
            try (Scope inner = phase.makeCurrent()) {
                tracer.spanBuilder("training.events publish").startSpan().end();
            }
            phase.end();
        }
        consumer.end();

        assertThat(exporter.getFinishedSpanItems()).hasSize(3).allSatisfy(span -> {
            assertThat(attribute(span, WorkContext.JOB_ID)).isEqualTo("job-1");
            assertThat(attribute(span, WorkContext.REGISTRY_MODEL)).isEqualTo("tiny-chat-support");
            assertThat(attribute(span, WorkContext.REGISTRY_VERSION)).isEqualTo("4");
        });
    }

    @Test
    void aSpanStartedOnAnotherThreadTakesItsParentsFieldsThoughThatThreadHasNoContext() {
        Span parent;
        try (WorkContext ignored = WorkContext.builder().job("job-2").open()) {
            parent = tracer.spanBuilder("training.train").startSpan();
        }
        Context context = Context.current().with(parent);
        CompletableFuture.runAsync(() -> tracer.spanBuilder("training.upload-checkpoint")
                        .setParent(context)
                        .startSpan()
                        .end())
                .join();
        parent.end();

        SpanData upload = exporter.getFinishedSpanItems().get(0);
        assertThat(upload.getName()).isEqualTo("training.upload-checkpoint");
        assertThat(attribute(upload, WorkContext.JOB_ID)).isEqualTo("job-2");
    }

    @Test
    void aSpanKeepsItsOwnValueAndAnUnrelatedSpanGetsNothing() {
        try (WorkContext ignored = WorkContext.builder().job("job-3").open()) {
            tracer.spanBuilder("other")
                    .setAttribute(WorkContext.JOB_ID, "job-4")
                    .startSpan()
                    .end();
        }
        tracer.spanBuilder("unrelated").startSpan().end();

        assertThat(attribute(exporter.getFinishedSpanItems().get(0), WorkContext.JOB_ID))
                .isEqualTo("job-4");
        assertThat(exporter.getFinishedSpanItems().get(1).getAttributes().isEmpty())
                .isTrue();
    }

    @Test
    void offVertxThreadsTheTraceGoesIntoTheMdcForTheContextsLifetime() {
        Span span = tracer.spanBuilder("training.reaper").startSpan();
        try (Scope scope = span.makeCurrent();
                WorkContext ignored = WorkContext.builder().job("job-5").open()) {
            assertThat(WorkContext.current(WorkContext.TRACE_ID))
                    .hasValue(span.getSpanContext().getTraceId());
            assertThat(WorkContext.current(WorkContext.SPAN_ID))
                    .hasValue(span.getSpanContext().getSpanId());
        }
        span.end();
        assertThat(WorkContext.current(WorkContext.TRACE_ID)).isEmpty();
    }

    private static String attribute(SpanData span, String key) {
        return span.getAttributes().get(AttributeKey.stringKey(key));
    }

    @Test
    void aTaskHandedToAnotherThreadRunsInTheContextOfTheThreadThatHandedItOver() throws Exception {
        String[] seen = new String[2];
        Runnable task;
        try (WorkContext ignored =
                WorkContext.builder().job("job-6").dataset("support", "1").open()) {
            task = WorkContext.propagate(() -> {
                seen[0] = WorkContext.current(WorkContext.JOB_ID).orElse(null);
                seen[1] = WorkContext.current(WorkContext.DATASET_NAME).orElse(null);
            });
        }
        java.util.concurrent.ExecutorService other = java.util.concurrent.Executors.newSingleThreadExecutor();
        try {
            other.submit(task).get();
            assertThat(seen).containsExactly("job-6", "support");
            assertThat(other.submit(() -> WorkContext.current(WorkContext.JOB_ID))
                            .get())
                    .as("the other thread's next task starts clean")
                    .isEmpty();
        } finally {
            other.shutdownNow();
        }
    }

    @Test
    void aTaskHandedToAnotherThreadLogsWithTheTraceOfTheThreadThatHandedItOver() throws Exception {
        Span run = tracer.spanBuilder("training.jobs receive").startSpan();
        String[] seen = new String[3];
        Runnable task;
        // The job's fields in the MDC, the trace only in the OpenTelemetry context (as on a Vert.x
        // worker thread, where Quarkus keeps the trace's MDC entries on the Vert.x context).
        try (WorkContext ignored = WorkContext.builder().job("job-9").open();
                Scope scope = run.makeCurrent()) {
            task = WorkContext.propagate(() -> {
                seen[0] = WorkContext.current(WorkContext.JOB_ID).orElse(null);
                seen[1] = WorkContext.current(WorkContext.TRACE_ID).orElse(null);
                seen[2] = Span.current().getSpanContext().getSpanId();
            });
        }
        run.end();
        java.util.concurrent.ExecutorService other = java.util.concurrent.Executors.newSingleThreadExecutor();
        try {
            other.submit(task).get();
            assertThat(seen)
                    .containsExactly(
                            "job-9",
                            run.getSpanContext().getTraceId(),
                            run.getSpanContext().getSpanId());
            assertThat(other.submit(() -> WorkContext.current(WorkContext.TRACE_ID))
                            .get())
                    .as("the other thread's next task starts clean")
                    .isEmpty();
        } finally {
            other.shutdownNow();
        }
    }
}
