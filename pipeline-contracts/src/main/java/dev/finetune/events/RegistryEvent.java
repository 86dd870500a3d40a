package dev.finetune.events;

import java.time.Instant;

/**
 * The registry changed.
 *
 * @param model the registered model name
 * @param version the version concerned
 * @param action what changed
 * @param alias the alias, for alias actions; else null
 * @param previousVersion the version the alias pointed at before, or null
 * @param actor who made the change (authenticated principal, or {@code pipeline} for automatic ones)
 * @param jobId the training job behind the version, if known
 * @param at when it changed
 */
public record RegistryEvent(
        String model,
        long version,
        RegistryAction action,
        String alias,
        Long previousVersion,
        String actor,
        String jobId,
        Instant at)
        implements PipelineEvent {
    public static final String TYPE = "dev.finetune.registry.event.v1";

    @Override
    public String cloudEventSubject() {
        return model;
    }
}
