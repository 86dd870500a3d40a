package dev.finetune.training.worker;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Scope;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;

/**
 * One span per phase of a job (load model, load data, restore checkpoint, train, upload), children
 * of the span that consumed the job request, which continues the trace that started when the
 * dataset was ingested. An operator sees in one trace where a job's time went.
 */
@ApplicationScoped
public class Phases {
    /** Work of one phase. */
    @FunctionalInterface
    public interface Work<T> {
        T run() throws IOException;
    }

    private final Tracer tracer;

    Phases(Tracer tracer) {
        this.tracer = tracer;
    }

    public <T> T run(String phase, String jobId, Work<T> work) throws IOException {
        Span span =
                tracer.spanBuilder("job " + phase).setAttribute("job.id", jobId).startSpan();
        try (Scope ignored = span.makeCurrent()) {
            return work.run();
        } catch (IOException | RuntimeException | Error e) {
            span.recordException(e);
            span.setStatus(StatusCode.ERROR, String.valueOf(e.getMessage()));
            throw e;
        } finally {
            span.end();
        }
    }
}
