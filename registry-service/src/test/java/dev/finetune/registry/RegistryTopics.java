package dev.finetune.registry;

import dev.finetune.service.testing.EventTopics;
import java.time.Duration;
import java.util.List;

/** What the registry published about one model on {@code registry.events}. */
final class RegistryTopics {
    private RegistryTopics() {}

    static List<EventTopics.Received> events(String model, int min) throws Exception {
        return EventTopics.read(
                "registry.events", v -> model.equals(v.path("model").asText()), min, Duration.ofSeconds(30));
    }
}
