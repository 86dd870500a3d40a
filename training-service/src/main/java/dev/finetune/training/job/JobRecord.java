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
 * @param objective what the job optimises (sft, dpo, orpo, kto, reward)
 * @param hyperparameters the settings the job sets, by their HF/TRL names, as checked when it was
 *     accepted (every other setting takes its default)
 * @param suffix name part for the registered model, or null
 * @param idempotencyKey the client's key, or null
 * @param state current state
 * @param failureReason why it failed, for a person to act on; null unless failed
 * @param step optimizer steps done so far
 * @param totalSteps optimizer steps in all (0 until training starts)
 * @param lastCheckpointStep step of the newest complete checkpoint in the object store, or 0
 * @param resultPrefix key prefix of the final adapter (or model), once succeeded
 * @param worker the worker that holds (or last held) the job
 * @param resumes how many times a run of the job started after an earlier run had ended without
 *     finishing it (a crash, an out-of-memory kill, a lost pod: its record redelivered, or the job
 *     requested again by the lease reaper); a run that resumes a preemption's hand-over is not
 *     counted. More than {@code pipeline.training.reaper.max-resumes} fails the job.
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
        int resumes,
        boolean cancelRequested,
        long eventSequence,
        Instant createdAt,
        Instant startedAt,
        Instant finishedAt) {

    public JobRecord withState(JobState newState, String reason) {
        Copy c = new Copy(this);
        c.state = newState;
        c.failureReason = reason;
        c.finishedAt = newState.isTerminal() ? Instant.now() : finishedAt;
        c.startedAt = newState == JobState.RUNNING && startedAt == null ? Instant.now() : startedAt;
        return c.build();
    }

    public JobRecord withHyperparameters(Hyperparameters checked) {
        Copy c = new Copy(this);
        c.hyperparameters = checked;
        return c.build();
    }

    public JobRecord withProgress(long newStep, long newTotal) {
        Copy c = new Copy(this);
        c.step = newStep;
        c.totalSteps = newTotal;
        return c.build();
    }

    public JobRecord withCheckpoint(long checkpointStep) {
        Copy c = new Copy(this);
        c.step = Math.max(step, checkpointStep);
        c.lastCheckpointStep = checkpointStep;
        return c.build();
    }

    public JobRecord withResult(String prefix) {
        Copy c = new Copy(this);
        c.resultPrefix = prefix;
        return c.build();
    }

    public JobRecord withWorker(String newWorker) {
        Copy c = new Copy(this);
        c.worker = newWorker;
        return c.build();
    }

    /** One more start after a run that did not finish (see {@code resumes}). */
    public JobRecord withResume() {
        Copy c = new Copy(this);
        c.resumes = resumes + 1;
        return c.build();
    }

    public JobRecord withCancelRequested() {
        Copy c = new Copy(this);
        c.cancelRequested = true;
        return c.build();
    }

    JobRecord withEventSequence(long sequence) {
        Copy c = new Copy(this);
        c.eventSequence = sequence;
        return c.build();
    }

    /** A mutable copy: each wither changes its fields and builds the next record. */
    private static final class Copy {
        private String id;
        private String baseModel;
        private String datasetName;
        private String datasetVersion;
        private FineTuneMethod method;
        private Objective objective;
        private Hyperparameters hyperparameters;
        private String suffix;
        private String idempotencyKey;
        private JobState state;
        private String failureReason;
        private long step;
        private long totalSteps;
        private long lastCheckpointStep;
        private String resultPrefix;
        private String worker;
        private int resumes;
        private boolean cancelRequested;
        private long eventSequence;
        private Instant createdAt;
        private Instant startedAt;
        private Instant finishedAt;

        Copy(JobRecord r) {
            id = r.id;
            baseModel = r.baseModel;
            datasetName = r.datasetName;
            datasetVersion = r.datasetVersion;
            method = r.method;
            objective = r.objective;
            hyperparameters = r.hyperparameters;
            suffix = r.suffix;
            idempotencyKey = r.idempotencyKey;
            state = r.state;
            failureReason = r.failureReason;
            step = r.step;
            totalSteps = r.totalSteps;
            lastCheckpointStep = r.lastCheckpointStep;
            resultPrefix = r.resultPrefix;
            worker = r.worker;
            resumes = r.resumes;
            cancelRequested = r.cancelRequested;
            eventSequence = r.eventSequence;
            createdAt = r.createdAt;
            startedAt = r.startedAt;
            finishedAt = r.finishedAt;
        }

        JobRecord build() {
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
                    resumes,
                    cancelRequested,
                    eventSequence,
                    createdAt,
                    startedAt,
                    finishedAt);
        }
    }
}
