package dev.finetune.service.tracing;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import java.util.regex.Pattern;

/**
 * One span per phase of a service's work (a training job's {@code training.load-model}, {@code
 * training.train}, {@code training.upload-checkpoint}; an evaluation's {@code eval.load-data}...),
 * each a child of the span current when it starts, so an operator sees in one trace where the time
 * went. Every service names its spans by one rule: {@code <area>.<phase>}, both lower-case words
 * joined by dashes, and tags them with the id of what they work on. A failed phase's span records
 * the exception and ends with status ERROR. While a phase runs, its id is in the work context
 * ({@link WorkContext}): in the log lines of the phase and on the spans started inside it.
 *
 * <p>A service makes one bean of this, with its area and id attribute (training-service's {@code
 * worker.Phases}: {@code training}, {@code job.id}).
 */
public class PhaseSpans {
    private static final Pattern WORDS = Pattern.compile("[a-z0-9]+(-[a-z0-9]+)*");

    /** Work of one phase; {@code E} is what it may throw (nothing checked for most). */
    @FunctionalInterface
    public interface Work<T, E extends Exception> {
        T run() throws E;
    }

    /** Work of one phase that returns nothing. */
    @FunctionalInterface
    public interface Task<E extends Exception> {
        void run() throws E;
    }

    private final Tracer tracer;
    private final String area;
    private final AttributeKey<String> idAttribute;

    /**
     * @param area the service area, the first part of every span name ({@code training}, {@code eval})
     * @param idAttribute the attribute that carries the id of the job, evaluation... ({@code job.id})
     */
    public PhaseSpans(Tracer tracer, String area, String idAttribute) {
        this.tracer = tracer;
        this.area = requireWords("area", area);
        this.idAttribute = AttributeKey.stringKey(WorkContext.requireKey(idAttribute));
    }

    /** The span name of {@code phase} in {@code area}: {@code <area>.<phase>}. */
    public static String name(String area, String phase) {
        return requireWords("area", area) + "." + requireWords("phase", phase);
    }

    /** Runs {@code work} as phase {@code phase} of {@code id}, a child of the current span. */
    public <T, E extends Exception> T run(String phase, String id, Work<T, E> work) throws E {
        return run(Context.current(), phase, id, work);
    }

    /** As {@link #run(String, String, Work)}, for work that returns nothing. */
    public <E extends Exception> void run(String phase, String id, Task<E> task) throws E {
        run(Context.current(), phase, id, () -> {
            task.run();
            return null;
        });
    }

    /** Runs {@code work} as phase {@code phase} of {@code id}, a child of {@code parent}. */
    public <T, E extends Exception> T run(Context parent, String phase, String id, Work<T, E> work) throws E {
        Span span = tracer.spanBuilder(name(area, phase))
                .setParent(parent)
                .setAttribute(idAttribute, id)
                .startSpan();
        try (Scope ignored = span.makeCurrent();
                WorkContext context =
                        WorkContext.builder().with(idAttribute.getKey(), id).open()) {
            return work.run();
        } catch (Exception | Error e) {
            span.recordException(e);
            span.setStatus(StatusCode.ERROR, String.valueOf(e.getMessage()));
            throw e;
        } finally {
            span.end();
        }
    }

    private static String requireWords(String what, String value) {
        if (value == null || !WORDS.matcher(value).matches()) {
            throw new IllegalArgumentException(
                    "a span's " + what + " is lower-case words joined by dashes, got \"" + value + "\"");
        }
        return value;
    }
}
