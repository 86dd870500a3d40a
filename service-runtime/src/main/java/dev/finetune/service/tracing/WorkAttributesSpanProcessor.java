package dev.finetune.service.tracing;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Context;
import io.opentelemetry.sdk.trace.ReadWriteSpan;
import io.opentelemetry.sdk.trace.ReadableSpan;
import io.opentelemetry.sdk.trace.SpanProcessor;
import jakarta.inject.Singleton;
import java.util.List;

/**
 * Gives every span the work-context attributes ({@link WorkContext}) of where it starts: those of
 * its parent span when the parent lives in this process, else those in the MDC of the starting
 * thread. So phase spans, the Kafka producer spans SmallRye makes and HTTP client spans all carry
 * {@code job.id}, {@code dataset.name}... without each call site repeating them. Quarkus registers
 * every {@link SpanProcessor} bean with its tracer provider.
 */
@Singleton
public class WorkAttributesSpanProcessor implements SpanProcessor {
    private static final List<AttributeKey<String>> KEYS =
            WorkContext.KEYS.stream().map(AttributeKey::stringKey).toList();

    @Override
    public void onStart(Context parentContext, ReadWriteSpan span) {
        ReadableSpan parent = Span.fromContext(parentContext) instanceof ReadableSpan readable ? readable : null;
        for (AttributeKey<String> key : KEYS) {
            if (span.getAttribute(key) != null) {
                continue;
            }
            String value = parent == null ? null : parent.getAttribute(key);
            if (value == null) {
                value = WorkContext.current(key.getKey()).orElse(null);
            }
            if (value != null) {
                span.setAttribute(key, value);
            }
        }
    }

    @Override
    public boolean isStartRequired() {
        return true;
    }

    @Override
    public void onEnd(ReadableSpan span) {}

    @Override
    public boolean isEndRequired() {
        return false;
    }
}
