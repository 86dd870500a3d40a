package dev.finetune.llm.train;

import ai.djl.ndarray.NDManager;
import dev.finetune.events.Objective;
import dev.finetune.llm.inference.GenerationConfig;
import dev.finetune.llm.objective.GrpoLoss;
import dev.finetune.llm.objective.GrpoLossType;
import dev.finetune.llm.rewards.Rewards;
import dev.finetune.llm.settings.SettingValues;
import dev.finetune.llm.settings.Settings;
import java.util.List;
import java.util.Set;

/**
 * Settings of the GRPO objective, a typed view of TRL's {@code GRPOConfig} names in {@link Settings}
 * (declared, defaulted and explained there), with GRPO's own defaults of the shared {@code beta} and
 * {@code loss_type}.
 *
 * @param numGenerations G, completions per prompt (default 8)
 * @param maxPromptLength prompts keep their last this many tokens (default 512)
 * @param maxCompletionLength most tokens generated per completion (default 256)
 * @param temperature sampling temperature, also applied to the log-probabilities as TRL does (default 1)
 * @param topP nucleus sampling mass, 1 for none (default 1)
 * @param topK top-k sampling, 0 for none (default 0)
 * @param beta KL weight, 0 for none (default 0.04)
 * @param epsilon lower clip 1 - epsilon (default 0.2)
 * @param epsilonHigh upper clip 1 + epsilonHigh (default: epsilon)
 * @param numIterations mu, optimizer steps on each batch of generated completions (default 1)
 * @param scaleRewards advantages divided by the group's reward std (default true)
 * @param lossType how token losses are averaged (default dapo)
 * @param rewardFuncs the reward functions' specs
 * @param rewardWeights their weights, empty for 1 each
 */
public record GrpoConfig(
        int numGenerations,
        int maxPromptLength,
        int maxCompletionLength,
        double temperature,
        double topP,
        int topK,
        double beta,
        double epsilon,
        double epsilonHigh,
        int numIterations,
        boolean scaleRewards,
        GrpoLossType lossType,
        List<String> rewardFuncs,
        List<Double> rewardWeights) {

    public static GrpoConfig from(SettingValues settings, Method method) {
        double epsilon = settings.get(Settings.EPSILON, method);
        double epsilonHigh = settings.get(Settings.EPSILON_HIGH, method);
        return new GrpoConfig(
                settings.get(Settings.NUM_GENERATIONS, method),
                settings.get(Settings.MAX_PROMPT_LENGTH, method),
                settings.get(Settings.MAX_COMPLETION_LENGTH, method),
                settings.get(Settings.TEMPERATURE, method),
                settings.get(Settings.TOP_P, method),
                settings.get(Settings.TOP_K, method),
                settings.get(Settings.BETA, method, Objective.GRPO),
                epsilon,
                epsilonHigh > 0 ? epsilonHigh : epsilon,
                settings.get(Settings.NUM_ITERATIONS, method),
                settings.get(Settings.SCALE_REWARDS, method),
                (GrpoLossType) settings.get(Settings.LOSS_TYPE, method, Objective.GRPO),
                settings.get(Settings.REWARD_FUNCS, method),
                settings.get(Settings.REWARD_WEIGHTS, method));
    }

    /** Prompts per micro-batch of {@code batchSize} completions (a multiple of num_generations). */
    public int promptsPerBatch(int batchSize) {
        return batchSize / numGenerations;
    }

    /**
     * The run's plan: items are prompts, a micro-batch {@link #promptsPerBatch} of them, a data batch
     * gradient_accumulation_steps micro-batches whose completions are generated once and optimised by
     * num_iterations consecutive optimizer steps (TRL's generation batch with steps_per_generation =
     * gradient_accumulation_steps, reused mu times). Steps are optimizer steps: max_steps if set, else
     * num_train_epochs passes over the prompts, num_iterations steps per data batch, as TRL counts them.
     */
    public BatchPlan plan(int prompts, TrainingArguments arguments) {
        BatchPlan data = BatchPlan.of(prompts, promptsPerBatch(arguments.batchSize()), arguments);
        int total = arguments.maxSteps() > 0 ? arguments.maxSteps() : data.totalSteps() * numIterations;
        return new BatchPlan(data.items(), data.batchSize(), data.accumulation(), total, data.seed(), numIterations);
    }

    /** The loss these settings describe, its constants held in {@code manager}. */
    public GrpoLoss loss(NDManager manager) {
        return new GrpoLoss(beta, epsilon, epsilonHigh, manager);
    }

    /** The reward functions and weights; see {@link Rewards#parse} for the errors. */
    public Rewards rewards() {
        return Rewards.parse(Objective.GRPO, rewardFuncs, rewardWeights);
    }

    /**
     * How a step samples its completions: G per prompt with the KV cache, the step's {@code seed}
     * (sequence r draws from seed + r), stopping at {@code stopTokens}.
     */
    public GenerationConfig generation(long seed, Set<Long> stopTokens) {
        return GenerationConfig.greedy(maxCompletionLength)
                .withSampling(temperature, topP, seed)
                .withTopK(topK)
                .withStopTokens(stopTokens)
                .withNumReturnSequences(numGenerations);
    }
}
