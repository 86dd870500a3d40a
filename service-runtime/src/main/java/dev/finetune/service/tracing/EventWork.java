package dev.finetune.service.tracing;

import dev.finetune.events.CheckpointCreated;
import dev.finetune.events.DatasetIngested;
import dev.finetune.events.DatasetPrepared;
import dev.finetune.events.DatasetRejected;
import dev.finetune.events.DatasetSubmitted;
import dev.finetune.events.EvaluationCompleted;
import dev.finetune.events.PipelineEvent;
import dev.finetune.events.RegistryEvent;
import dev.finetune.events.TrainingEvent;
import dev.finetune.events.TrainingJobRequested;
import dev.finetune.events.WireCode;

/**
 * The work context an event is about: a consumer handling it logs and traces with these fields
 * ({@link dev.finetune.service.messaging.EventProcessing} opens it around every handler).
 */
public final class EventWork {
    private EventWork() {}

    public static WorkContext.Builder of(PipelineEvent event) {
        WorkContext.Builder work = WorkContext.builder();
        if (event instanceof DatasetSubmitted e) {
            return work.dataset(e.datasetName(), e.version());
        } else if (event instanceof DatasetIngested e) {
            return work.dataset(e.datasetName(), e.version());
        } else if (event instanceof DatasetPrepared e) {
            return work.dataset(e.datasetName(), e.version());
        } else if (event instanceof DatasetRejected e) {
            return work.dataset(e.datasetName(), e.version());
        } else if (event instanceof TrainingJobRequested e) {
            return work.job(e.jobId())
                    .dataset(e.datasetName(), e.datasetVersion())
                    .baseModel(e.baseModel())
                    .method(code(e.method()), code(e.objective()));
        } else if (event instanceof TrainingEvent e) {
            return work.job(e.jobId());
        } else if (event instanceof CheckpointCreated e) {
            return work.job(e.jobId())
                    .dataset(e.datasetName(), e.datasetVersion())
                    .baseModel(e.baseModel())
                    .method(code(e.method()), code(e.objective()));
        } else if (event instanceof EvaluationCompleted e) {
            return work.job(e.jobId()).evaluation(e.evaluationId());
        } else if (event instanceof RegistryEvent e) {
            return work.job(e.jobId()).registryVersion(e.model(), e.version());
        }
        throw new IllegalArgumentException(
                "no work context for " + event.getClass().getName());
    }

    private static String code(WireCode value) {
        return value == null ? null : value.code();
    }
}
