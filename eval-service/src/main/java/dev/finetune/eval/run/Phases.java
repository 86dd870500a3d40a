package dev.finetune.eval.run;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.function.Supplier;

/**
 * One span per evaluation phase ({@code eval.load-data}, {@code eval.base-metrics}, ...), each a
 * child of the span current when the evaluation started: the consumer span of the checkpoint event,
 * itself in the training job's trace, or the HTTP request's.
 */
@ApplicationScoped
public class Phases {
    public static final String EVALUATION_ID = "evaluation.id";

    private final Tracer tracer;

    Phases(Tracer tracer) {
        this.tracer = tracer;
    }

    /** A phase, child of the current span. */
    public <T> T run(String name, String evaluationId, Supplier<T> work) {
        return run(Context.current(), name, evaluationId, work);
    }

    /** A span under {@code parent}, current while {@code work} runs. */
    public <T> T run(Context parent, String name, String evaluationId, Supplier<T> work) {
        Span span = tracer.spanBuilder(name)
                .setParent(parent)
                .setAttribute(EVALUATION_ID, evaluationId)
                .startSpan();
        try (Scope ignored = span.makeCurrent()) {
            return work.get();
        } catch (RuntimeException | Error e) {
            span.recordException(e);
            span.setStatus(StatusCode.ERROR, String.valueOf(e.getMessage()));
            throw e;
        } finally {
            span.end();
        }
    }

    public void run(String name, String evaluationId, Runnable work) {
        run(name, evaluationId, () -> {
            work.run();
            return null;
        });
    }
}
