package dev.finetune.events;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A checkpoint is complete under {@code checkpoints/<job>/step-<n>/} (all files written, its
 * manifest last) and can be evaluated or resumed from.
 *
 * @param jobId the job that wrote it
 * @param step the optimizer step it captures
 * @param totalSteps the job's total optimizer steps
 * @param prefix the checkpoint's key prefix, ending in '/'
 * @param baseModel the base model name
 * @param datasetName the dataset the job trains on
 * @param datasetVersion its version
 * @param method what was trained (adapter or full weights)
 * @param objective what was optimised
 * @param parent the registered adapter version training started from ({@code init_adapter}), or null
 *     for a new adapter; the registry records it as the new version's parent. Added within v1: a
 *     producer that predates it sends none, which reads as null.
 * @param rewardModel the registered reward model version the policy was trained against (a {@code
 *     model:registry:...} entry of its {@code reward_funcs}), or null; the registry records it in the
 *     new version's lineage. Added within v1, as {@code parent}.
 * @param rewards the job's rewards as its hyperparameters hold them, under TRL's names: {@code
 *     reward_funcs} (a registry reward model pinned to its version) and {@code reward_weights} when set;
 *     empty for a job without rewards. eval-service scores a policy's answers with them. Added within v1:
 *     a producer that predates it sends none, which reads as empty.
 * @param isFinal whether this is the job's final result
 * @param createdAt when it was completed
 */
public record CheckpointCreated(
        String jobId,
        long step,
        long totalSteps,
        String prefix,
        String baseModel,
        String datasetName,
        String datasetVersion,
        FineTuneMethod method,
        Objective objective,
        RegisteredVersion parent,
        RegisteredVersion rewardModel,
        Hyperparameters rewards,
        boolean isFinal,
        Instant createdAt)
        implements PipelineEvent {
    public static final String TYPE = "dev.finetune.checkpoint.created.v1";

    /** The settings that say how a policy is rewarded, TRL's names. */
    public static final String REWARD_FUNCS = "reward_funcs";

    public static final String REWARD_WEIGHTS = "reward_weights";

    public CheckpointCreated {
        rewards = rewards == null ? Hyperparameters.none() : rewards;
    }

    /** The reward settings among a job's {@code hyperparameters}, for {@link #rewards}. */
    public static Hyperparameters rewardsOf(Hyperparameters hyperparameters) {
        Map<String, Object> rewards = new LinkedHashMap<>();
        for (String name : new String[] {REWARD_FUNCS, REWARD_WEIGHTS}) {
            Object value = hyperparameters.values().get(name);
            if (value != null) {
                rewards.put(name, value);
            }
        }
        return new Hyperparameters(rewards);
    }

    /** The Kafka key is the job, so one job's checkpoints are evaluated in order. */
    @Override
    public String cloudEventSubject() {
        return jobId;
    }
}
