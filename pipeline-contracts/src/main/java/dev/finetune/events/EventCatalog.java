package dev.finetune.events;

import java.util.List;
import java.util.Optional;

/** Every event type: its CloudEvents type string, its record and the topic it travels on. */
public final class EventCatalog {
    /**
     * One event type.
     *
     * @param type the versioned CloudEvents type
     * @param recordType the record that is the event's data
     * @param topic the Kafka topic it is sent to
     */
    public record Entry(String type, Class<? extends PipelineEvent> recordType, String topic) {}

    public static final List<Entry> ALL = List.of(
            new Entry(DatasetSubmitted.TYPE, DatasetSubmitted.class, Topics.DATASETS_SUBMITTED),
            new Entry(DatasetIngested.TYPE, DatasetIngested.class, Topics.DATASETS_INGESTED),
            new Entry(DatasetPrepared.TYPE, DatasetPrepared.class, Topics.DATASETS_PREPARED),
            new Entry(DatasetRejected.TYPE, DatasetRejected.class, Topics.DATASETS_REJECTED),
            new Entry(TrainingJobRequested.TYPE, TrainingJobRequested.class, Topics.TRAINING_JOBS),
            new Entry(TrainingEvent.TYPE, TrainingEvent.class, Topics.TRAINING_EVENTS),
            new Entry(CheckpointCreated.TYPE, CheckpointCreated.class, Topics.CHECKPOINTS_CREATED),
            new Entry(EvaluationCompleted.TYPE, EvaluationCompleted.class, Topics.EVALUATIONS_COMPLETED),
            new Entry(RegistryEvent.TYPE, RegistryEvent.class, Topics.REGISTRY_EVENTS));

    private EventCatalog() {}

    /** The entry of an event record class. */
    public static Entry of(Class<?> recordType) {
        for (Entry entry : ALL) {
            if (entry.recordType() == recordType) {
                return entry;
            }
        }
        throw new IllegalArgumentException("not a pipeline event: " + recordType.getName());
    }

    /** The entry of a CloudEvents type string, if it is one of ours. */
    public static Optional<Entry> ofType(String type) {
        return ALL.stream().filter(e -> e.type().equals(type)).findFirst();
    }
}
