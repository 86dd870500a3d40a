package dev.finetune.events;

import com.fasterxml.jackson.annotation.JsonIgnore;

/**
 * Every event the pipeline sends. Events travel as CloudEvents 1.0 in Kafka binary mode: the
 * record below is the JSON {@code data}; {@link #cloudEventType()} and {@link #cloudEventSubject()}
 * become the {@code ce_type} and {@code ce_subject} headers, and the subject is also the Kafka key,
 * so all events about one thing (one dataset, one job) stay in order on one partition.
 */
public sealed interface PipelineEvent
        permits DatasetSubmitted,
                DatasetIngested,
                DatasetPrepared,
                DatasetRejected,
                TrainingJobRequested,
                TrainingEvent,
                CheckpointCreated,
                EvaluationCompleted,
                RegistryEvent {

    /** The versioned CloudEvents type, e.g. {@code dev.finetune.dataset.prepared.v1}. */
    @JsonIgnore
    default String cloudEventType() {
        return EventCatalog.of(getClass()).type();
    }

    /** The id of the thing the event describes; the Kafka key. */
    @JsonIgnore
    String cloudEventSubject();
}
