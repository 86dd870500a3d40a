package dev.finetune.service.metrics;

import dev.finetune.storage.ObjectStoreObserver;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Records every object-store call: {@code finetune_object_store_request_duration_seconds{operation,
 * outcome}} (outcome {@code success} or {@code error}; an answer such as "no such key" is a success)
 * and {@code finetune_object_store_errors_total{operation}}. The operation is one of the store's
 * fixed names ({@link ObjectStoreObserver#completed}), so the label set is bounded.
 */
public final class ObjectStoreMetrics implements ObjectStoreObserver {
    /** Latency buckets from a small stat (a few ms) to a large multipart upload (minutes). */
    private static final Duration[] BUCKETS = {
        Duration.ofMillis(5),
        Duration.ofMillis(10),
        Duration.ofMillis(25),
        Duration.ofMillis(50),
        Duration.ofMillis(100),
        Duration.ofMillis(250),
        Duration.ofMillis(500),
        Duration.ofSeconds(1),
        Duration.ofMillis(2500),
        Duration.ofSeconds(5),
        Duration.ofSeconds(10),
        Duration.ofSeconds(30),
        Duration.ofSeconds(120)
    };

    private final MeterRegistry registry;

    public ObjectStoreMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    @Override
    public void completed(String operation, long nanos, boolean failed) {
        Recording.safely("object store " + operation, () -> {
            Timer.builder("finetune.object.store.request.duration")
                    .description("Object-store calls, retries included, by operation and outcome")
                    .tags("operation", operation, "outcome", failed ? "error" : "success")
                    .serviceLevelObjectives(BUCKETS)
                    .register(registry)
                    .record(nanos, TimeUnit.NANOSECONDS);
            if (failed) {
                Counter.builder("finetune.object.store.errors")
                        .description("Object-store calls that failed after their retries")
                        .tag("operation", operation)
                        .register(registry)
                        .increment();
            }
        });
    }
}
