package dev.finetune.service.tracing;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.context.Context;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jboss.logging.MDC;

/**
 * What a unit of work is about (a job, a dataset version, a base model, an evaluation, a registry
 * version), said once where the work starts and visible wherever it goes:
 *
 * <ul>
 *   <li>as log fields: each key goes into the MDC, so a JSON log line carries {@code job.id},
 *       {@code dataset.name}... next to {@code traceId} and {@code spanId}; closing the context
 *       restores what the MDC held before, so a worker thread's next unit of work starts clean;
 *   <li>as span attributes: on the span current when it opens, and ({@link WorkAttributesSpanProcessor})
 *       on every span started under it, including the Kafka producer spans the connector makes, so a
 *       trace can be searched by dataset, model, method or objective.
 * </ul>
 *
 * <pre>{@code
 * try (WorkContext ignored = WorkContext.builder().job(job.id()).dataset(name, version).open()) {
 *     ...
 * }
 * }</pre>
 *
 * <p>The keys are the attribute names the README documents; values are never message text, so log
 * fields and span attributes stay searchable.
 */
public final class WorkContext implements AutoCloseable {
    public static final String DATASET_NAME = "dataset.name";
    public static final String DATASET_VERSION = "dataset.version";
    public static final String JOB_ID = "job.id";
    public static final String MODEL_BASE = "model.base";
    public static final String METHOD = "finetune.method";
    public static final String OBJECTIVE = "finetune.objective";
    public static final String EVALUATION_ID = "evaluation.id";
    public static final String REGISTRY_MODEL = "registry.model";
    public static final String REGISTRY_VERSION = "registry.version";

    /** Every key a work context may carry, in the order they are documented. */
    public static final List<String> KEYS = List.of(
            DATASET_NAME,
            DATASET_VERSION,
            JOB_ID,
            MODEL_BASE,
            METHOD,
            OBJECTIVE,
            EVALUATION_ID,
            REGISTRY_MODEL,
            REGISTRY_VERSION);

    /** The MDC keys of the trace (Quarkus' own names, which its log format and JSON formatter use). */
    static final String TRACE_ID = "traceId";

    static final String SPAN_ID = "spanId";

    /** MDC values this context replaced (null where the key was absent), restored on close. */
    private final Map<String, Object> previous = new LinkedHashMap<>();

    private WorkContext(Map<String, String> values) {
        Span span = Span.current();
        for (Map.Entry<String, String> entry : values.entrySet()) {
            put(entry.getKey(), entry.getValue());
            span.setAttribute(entry.getKey(), entry.getValue());
        }
        // Off Vert.x threads (a lease reaper, a reporter), Quarkus does not put the trace into the MDC.
        SpanContext trace = span.getSpanContext();
        if (trace.isValid() && MDC.get(TRACE_ID) == null) {
            put(TRACE_ID, trace.getTraceId());
            put(SPAN_ID, trace.getSpanId());
        }
    }

    /** {@code key} if it is one of {@link #KEYS}. */
    public static String requireKey(String key) {
        if (!KEYS.contains(key)) {
            throw new IllegalArgumentException("not a work context key: \"" + key + "\"; one of " + KEYS);
        }
        return key;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The value of {@code key} in the work context of this thread (or Vert.x context), if any. */
    public static Optional<String> current(String key) {
        Object value = MDC.get(key);
        return value == null ? Optional.empty() : Optional.of(value.toString());
    }

    /**
     * {@code task} to run on another thread in this thread's work context and trace: a worker's
     * lease-watch thread logs with the job's fields and {@code traceId}, as the thread that handed it
     * the work does.
     */
    public static Runnable propagate(Runnable task) {
        return propagate(Context.current(), task);
    }

    /**
     * {@code task} to run on another thread in this thread's work context, with {@code trace} as its
     * OpenTelemetry context (a reporter's threads work in the trace of the run that made them). The
     * trace is made current first and the work context opened inside it, so the MDC gets {@code
     * traceId} and {@code spanId}: the other way round, the work context opens with no span to read.
     */
    public static Runnable propagate(Context trace, Runnable task) {
        Builder work = builder();
        for (String key : KEYS) {
            current(key).ifPresent(value -> work.put(key, value));
        }
        return trace.wrap(() -> {
            try (WorkContext ignored = work.open()) {
                task.run();
            }
        });
    }

    private void put(String key, String value) {
        if (!previous.containsKey(key)) {
            previous.put(key, MDC.get(key));
        }
        MDC.put(key, value);
    }

    @Override
    public void close() {
        previous.forEach((key, value) -> {
            if (value == null) {
                MDC.remove(key);
            } else {
                MDC.put(key, value);
            }
        });
        previous.clear();
    }

    /** The fields of a work context; a null or blank value leaves its field out. */
    public static final class Builder {
        private final Map<String, String> values = new LinkedHashMap<>();

        private Builder() {}

        public Builder job(String id) {
            return put(JOB_ID, id);
        }

        public Builder dataset(String name, String version) {
            return put(DATASET_NAME, name).put(DATASET_VERSION, version);
        }

        public Builder baseModel(String model) {
            return put(MODEL_BASE, model);
        }

        /** The fine-tuning method and objective by their wire codes ({@code lora}, {@code sft}). */
        public Builder method(String method, String objective) {
            return put(METHOD, method).put(OBJECTIVE, objective);
        }

        public Builder evaluation(String id) {
            return put(EVALUATION_ID, id);
        }

        public Builder registryModel(String model) {
            return put(REGISTRY_MODEL, model);
        }

        public Builder registryVersion(String model, long version) {
            return put(REGISTRY_MODEL, model).put(REGISTRY_VERSION, Long.toString(version));
        }

        /** A field by its key, one of {@link #KEYS}. */
        Builder with(String key, String value) {
            return put(requireKey(key), value);
        }

        private Builder put(String key, String value) {
            if (value != null && !value.isBlank()) {
                values.put(key, value);
            }
            return this;
        }

        /** Puts the fields into the MDC and on the current span until the context is closed. */
        public WorkContext open() {
            return new WorkContext(values);
        }
    }
}
