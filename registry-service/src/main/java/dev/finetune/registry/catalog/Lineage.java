package dev.finetune.registry.catalog;

import dev.finetune.events.FineTuneMethod;
import dev.finetune.events.Objective;
import dev.finetune.events.RegisteredVersion;
import java.time.Instant;
import java.util.Map;

/**
 * Where a version came from, {@code lineage.json}: enough to reproduce it or audit it.
 *
 * @param dataset the prepared dataset version it was trained on
 * @param jobId the training job
 * @param checkpoint the job's final checkpoint
 * @param baseModel the base model and the hash of its files
 * @param evaluation the evaluation it was registered with
 * @param traceId the OpenTelemetry trace of the job's checkpoint event
 * @param evaluationTraceId the trace of the evaluation event
 * @param method what was trained
 * @param objective what was optimised
 * @param hyperparameters what the adapter config and trainer state say (absent ones are left out)
 * @param parent the registered adapter version the job's training started from ({@code init_adapter}),
 *     or null for an adapter trained from scratch
 * @param rewardModel the registered reward model version the policy was trained against (GRPO/PPO with a
 *     {@code model:registry:...} reward), or null
 * @param registeredAt when the version was registered
 */
public record Lineage(
        Dataset dataset,
        String jobId,
        Checkpoint checkpoint,
        BaseModel baseModel,
        Evaluation evaluation,
        String traceId,
        String evaluationTraceId,
        FineTuneMethod method,
        Objective objective,
        Map<String, Object> hyperparameters,
        RegisteredVersion parent,
        RegisteredVersion rewardModel,
        Instant registeredAt) {

    /**
     * The prepared dataset version.
     *
     * @param sha256 the SHA-256 of the raw dataset bytes, from the prepared manifest; null if it
     *     could not be read (then {@code note} says why)
     */
    public record Dataset(String name, String version, String id, String sha256, String manifestKey, String note) {}

    /** The job's final checkpoint the version was copied from. */
    public record Checkpoint(String prefix, long step, long totalSteps, Instant createdAt) {}

    /**
     * The base model the version was trained on.
     *
     * @param sha256 SHA-256 over the {@code sha256sum}-style listing of the files (see BaseModelFingerprints)
     * @param files each file's SHA-256 by its name under the prefix
     */
    public record BaseModel(String name, String prefix, String sha256, Map<String, String> files) {}

    /** The evaluation the version was registered with; its full report is at {@code reportKey}. */
    public record Evaluation(String id, String status, String reportKey, Instant completedAt) {}
}
