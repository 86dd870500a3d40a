package dev.finetune.cli.trace;

import java.util.Map;

/**
 * One span as a service exported it.
 *
 * @param traceId 32 hex digits
 * @param spanId 16 hex digits
 * @param parentSpanId 16 hex digits, or empty for a root span
 * @param service the exporting service's {@code service.name}
 * @param name the span name, e.g. {@code datasets.submitted receive} or {@code training.train}
 * @param durationNanos how long it took
 * @param attributes the span's attributes with string values ({@code job.id}, {@code dataset.name}...)
 */
public record CollectedSpan(
        String traceId,
        String spanId,
        String parentSpanId,
        String service,
        String name,
        long durationNanos,
        Map<String, String> attributes) {
    public CollectedSpan {
        attributes = Map.copyOf(attributes);
    }
}
