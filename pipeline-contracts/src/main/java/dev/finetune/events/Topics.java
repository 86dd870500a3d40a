package dev.finetune.events;

import dev.finetune.naming.Names;
import java.util.List;

/** Kafka topic names. Deployments create them (see deploy/); the local stack creates them on start. */
public final class Topics {
    /** Upstream systems announce a dataset object they wrote to the store: {@link DatasetSubmitted}. */
    public static final String DATASETS_SUBMITTED = "datasets.submitted";
    /** Raw bytes stored and versioned: {@link DatasetIngested}. */
    public static final String DATASETS_INGESTED = "datasets.ingested";
    /** Splits ready for training: {@link DatasetPrepared}. */
    public static final String DATASETS_PREPARED = "datasets.prepared";
    /** A dataset failed validation: {@link DatasetRejected}. */
    public static final String DATASETS_REJECTED = "datasets.rejected";
    /** Job requests, consumed by training workers: {@link TrainingJobRequested}. */
    public static final String TRAINING_JOBS = "training.jobs";
    /** Job state changes and metrics: {@link TrainingEvent}. */
    public static final String TRAINING_EVENTS = "training.events";
    /** Checkpoints ready to evaluate: {@link CheckpointCreated}. */
    public static final String CHECKPOINTS_CREATED = "checkpoints.created";
    /** Evaluation results: {@link EvaluationCompleted}. */
    public static final String EVALUATIONS_COMPLETED = "evaluations.completed";
    /** Registry changes: {@link RegistryEvent}. */
    public static final String REGISTRY_EVENTS = "registry.events";

    /** Every topic above, in pipeline order. */
    public static final List<String> ALL = List.of(
            DATASETS_SUBMITTED,
            DATASETS_INGESTED,
            DATASETS_PREPARED,
            DATASETS_REJECTED,
            TRAINING_JOBS,
            TRAINING_EVENTS,
            CHECKPOINTS_CREATED,
            EVALUATIONS_COMPLETED,
            REGISTRY_EVENTS);

    private Topics() {}

    /**
     * The dead-letter topic of one consumer group on one topic: {@code <topic>.dlq.<group>}. A
     * message that its consumer cannot process (poison) goes there with the failure in its headers,
     * and the consumer moves on.
     */
    public static String deadLetter(String topic, String consumerGroup) {
        if (!ALL.contains(topic)) {
            throw new IllegalArgumentException("unknown topic '" + topic + "'");
        }
        return topic + ".dlq." + Names.requireName("consumer group", consumerGroup);
    }
}
