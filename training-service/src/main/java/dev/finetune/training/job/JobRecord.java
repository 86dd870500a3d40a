package dev.finetune.training.job;

import dev.finetune.events.FineTuneMethod;
import dev.finetune.events.Hyperparameters;
import dev.finetune.events.JobState;
import dev.finetune.events.Objective;
import java.time.Instant;

/**
 * A fine-tuning job as stored at {@code training/jobs/<id>/job.json}; every change is a
 * compare-and-set on that object's ETag, so concurrent writers (API, worker) never lose an update.
 *
 * @param id the job id
 * @param baseModel base model under {@code models/base/<name>/}
 * @param datasetName prepared dataset
 * @param datasetVersion its version
 * @param method full, lora or qlora
 * @param objective sft or dpo
 * @param hyperparameters requested values (null fields: the recipe's defaults)
 * @param suffix name part for the registered model, or null
 * @param idempotencyKey the client's key, or null
 * @param state current state
 * @param failureReason why it failed, for a person to act on; null unless failed
 * @param step optimizer steps done so far
 * @param totalSteps optimizer steps in all (0 until training starts)
 * @param lastCheckpointStep step of the newest complete checkpoint in the object store, or 0
 * @param resultPrefix key prefix of the final adapter (or model), once succeeded
 * @param worker the worker that holds (or last held) the job
 * @param cancelRequested a cancel was asked for; the worker stops within a step or two
 * @param eventSequence number of the last event of this job
 * @param createdAt when the job was created
 * @param startedAt when training first started, or null
 * @param finishedAt when it reached a terminal state, or null
 */
public record JobRecord(
        String id,
        String baseModel,
        String datasetName,
        String datasetVersion,
        FineTuneMethod method,
        Objective objective,
        Hyperparameters hyperparameters,
        String suffix,
        String idempotencyKey,
        JobState state,
        String failureReason,
        long step,
        long totalSteps,
        long lastCheckpointStep,
        String resultPrefix,
        String worker,
        boolean cancelRequested,
        long eventSequence,
        Instant createdAt,
        Instant startedAt,
        Instant finishedAt) {

    public JobRecord withState(JobState newState, String reason) {
        Instant finished = newState.isTerminal() ? Instant.now() : finishedAt;
        Instant started = newState == JobState.RUNNING && startedAt == null ? Instant.now() : startedAt;
        return new JobRecord(
                id,
                baseModel,
                datasetName,
                datasetVersion,
                method,
                objective,
                hyperparameters,
                suffix,
                idempotencyKey,
                newState,
                reason,
                step,
                totalSteps,
                lastCheckpointStep,
                resultPrefix,
                worker,
                cancelRequested,
                eventSequence,
                createdAt,
                started,
                finished);
    }

    public JobRecord withProgress(long newStep, long newTotal) {
        return new JobRecord(
                id,
                baseModel,
                datasetName,
                datasetVersion,
                method,
                objective,
                hyperparameters,
                suffix,
                idempotencyKey,
                state,
                failureReason,
                newStep,
                newTotal,
                lastCheckpointStep,
                resultPrefix,
                worker,
                cancelRequested,
                eventSequence,
                createdAt,
                startedAt,
                finishedAt);
    }

    public JobRecord withCheckpoint(long checkpointStep) {
        return new JobRecord(
                id,
                baseModel,
                datasetName,
                datasetVersion,
                method,
                objective,
                hyperparameters,
                suffix,
                idempotencyKey,
                state,
                failureReason,
                Math.max(step, checkpointStep),
                totalSteps,
                checkpointStep,
                resultPrefix,
                worker,
                cancelRequested,
                eventSequence,
                createdAt,
                startedAt,
                finishedAt);
    }

    public JobRecord withResult(String prefix) {
        return new JobRecord(
                id,
                baseModel,
                datasetName,
                datasetVersion,
                method,
                objective,
                hyperparameters,
                suffix,
                idempotencyKey,
                state,
                failureReason,
                step,
                totalSteps,
                lastCheckpointStep,
                prefix,
                worker,
                cancelRequested,
                eventSequence,
                createdAt,
                startedAt,
                finishedAt);
    }

    public JobRecord withWorker(String newWorker) {
        return new JobRecord(
                id,
                baseModel,
                datasetName,
                datasetVersion,
                method,
                objective,
                hyperparameters,
                suffix,
                idempotencyKey,
                state,
                failureReason,
                step,
                totalSteps,
                lastCheckpointStep,
                resultPrefix,
                newWorker,
                cancelRequested,
                eventSequence,
                createdAt,
                startedAt,
                finishedAt);
    }

    public JobRecord withCancelRequested() {
        return new JobRecord(
                id,
                baseModel,
                datasetName,
                datasetVersion,
                method,
                objective,
                hyperparameters,
                suffix,
                idempotencyKey,
                state,
                failureReason,
                step,
                totalSteps,
                lastCheckpointStep,
                resultPrefix,
                worker,
                true,
                eventSequence,
                createdAt,
                startedAt,
                finishedAt);
    }

    JobRecord withEventSequence(long sequence) {
        return new JobRecord(
                id,
                baseModel,
                datasetName,
                datasetVersion,
                method,
                objective,
                hyperparameters,
                suffix,
                idempotencyKey,
                state,
                failureReason,
                step,
                totalSteps,
                lastCheckpointStep,
                resultPrefix,
                worker,
                cancelRequested,
                sequence,
                createdAt,
                startedAt,
                finishedAt);
    }
}
