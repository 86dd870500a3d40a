package dev.finetune.events;

import java.time.Instant;

/**
 * A request to fine-tune a base model on a prepared dataset, consumed by training workers. The
 * job id is the key, so a duplicated request for the same job lands on the same partition and the
 * worker's idempotency check sees it.
 *
 * @param jobId the job's id (a valid name); chosen by the training-service's API or the trigger
 * @param baseModel name of the base model under {@code models/base/<name>/}
 * @param datasetName the prepared dataset's name
 * @param datasetVersion the prepared dataset's version
 * @param method which weights to train
 * @param objective what to optimise
 * @param hyperparameters values for the recipe; a null field means the recipe's default
 * @param suffix optional name part for the resulting registered model, or null
 * @param idempotencyKey optional client key: two requests with the same key are one job, or null
 * @param requestedAt when the job was requested
 */
public record TrainingJobRequested(
        String jobId,
        String baseModel,
        String datasetName,
        String datasetVersion,
        FineTuneMethod method,
        Objective objective,
        Hyperparameters hyperparameters,
        String suffix,
        String idempotencyKey,
        Instant requestedAt)
        implements PipelineEvent {
    public static final String TYPE = "dev.finetune.training.job-requested.v1";

    @Override
    public String cloudEventSubject() {
        return jobId;
    }
}
