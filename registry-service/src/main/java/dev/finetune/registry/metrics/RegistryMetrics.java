package dev.finetune.registry.metrics;

import dev.finetune.service.metrics.Recording;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;

/**
 * {@code finetune_registry_versions_registered_total}: versions this registry wrote (each once,
 * by the consumer that claimed its number); {@code finetune_registry_promotions_total{alias}}:
 * aliases moved to a version, by hand or by automatic promotion. Aliases are few per registry (a
 * handful of names like {@code production}, {@code staging}), so the label stays small.
 */
@ApplicationScoped
public class RegistryMetrics {
    private final MeterRegistry registry;

    RegistryMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    public void versionRegistered() {
        Recording.safely("version registered", () -> Counter.builder("finetune.registry.versions.registered")
                .description("Model versions registered")
                .register(registry)
                .increment());
    }

    public void promoted(String alias) {
        Recording.safely("promotion", () -> Counter.builder("finetune.registry.promotions")
                .description("Aliases moved to a version, by alias")
                .tag("alias", alias)
                .register(registry)
                .increment());
    }
}
