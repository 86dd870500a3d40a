package dev.finetune.eval.run;

import dev.finetune.errors.InvalidInputException;
import dev.finetune.eval.gates.Gates;
import dev.finetune.events.CheckpointCreated;
import dev.finetune.events.FineTuneMethod;
import dev.finetune.events.Hyperparameters;
import dev.finetune.events.Objective;
import dev.finetune.naming.Names;
import dev.finetune.storage.ObjectKeys;

/**
 * What to evaluate: a checkpoint (adapter or full weights under {@code checkpointPrefix}) of a base
 * model on a prepared dataset version, and where the report goes.
 *
 * @param evaluationId {@code <job>-step-<n>} for checkpoints, {@code eval-<id>} for requests via the API
 * @param jobId the job, or null for an ad-hoc evaluation
 * @param step the checkpoint's step (0 for ad-hoc evaluations)
 * @param checkpointPrefix the key prefix of the weights to evaluate
 * @param method how they were trained; null: an adapter if adapter_config.json is there, else full weights
 * @param objective what the job optimised; null for an ad-hoc evaluation
 * @param gates the pass/fail rules to apply
 * @param reportKey where the full report is stored (written last: the evaluation's completion marker)
 * @param rewards the job's {@code reward_funcs} and {@code reward_weights} (a GRPO or PPO policy's): with
 *     them, the policy's answers are also scored by its rewards and its KL to the base ({@link
 *     PolicyRewards}); empty for none
 */
public record EvaluationRequest(
        String evaluationId,
        String jobId,
        long step,
        String checkpointPrefix,
        String baseModel,
        String datasetName,
        String datasetVersion,
        FineTuneMethod method,
        Objective objective,
        Gates gates,
        String reportKey,
        Hyperparameters rewards) {

    public static final String REPORT_FILE = "evaluation.json";

    public EvaluationRequest {
        rewards = rewards == null ? Hyperparameters.none() : rewards;
        Names.requireName("baseModel", baseModel);
        Names.requireName("dataset name", datasetName);
        Names.requireName("dataset version", datasetVersion);
        if (checkpointPrefix == null || checkpointPrefix.isBlank() || !checkpointPrefix.endsWith("/")) {
            throw new InvalidInputException(
                    "checkpointPrefix",
                    "checkpointPrefix must be a key prefix ending in '/', got '" + checkpointPrefix + "'");
        }
        Names.requireFilePath("checkpointPrefix", checkpointPrefix.substring(0, checkpointPrefix.length() - 1));
    }

    public static EvaluationRequest of(CheckpointCreated c, Gates gates) {
        return new EvaluationRequest(
                checkpointEvaluationId(c.jobId(), c.step()),
                c.jobId(),
                c.step(),
                c.prefix(),
                c.baseModel(),
                c.datasetName(),
                c.datasetVersion(),
                c.method(),
                c.objective(),
                gates,
                c.prefix() + REPORT_FILE,
                c.rewards());
    }

    public static String checkpointEvaluationId(String jobId, long step) {
        return Names.requireName("job id", jobId) + "-step-" + step;
    }

    /** The report of a checkpoint evaluation, next to the checkpoint. */
    public static String checkpointReportKey(String jobId, long step) {
        return ObjectKeys.checkpoint(jobId, step, REPORT_FILE);
    }
}
