package dev.finetune.llm.train;

import ai.djl.ndarray.NDManager;
import dev.finetune.events.Objective;
import dev.finetune.llm.inference.GenerationConfig;
import dev.finetune.llm.objective.AdaptiveKlController;
import dev.finetune.llm.objective.KlEstimator;
import dev.finetune.llm.objective.PpoLoss;
import dev.finetune.llm.rewards.Rewards;
import dev.finetune.llm.settings.SettingValues;
import dev.finetune.llm.settings.Settings;
import java.util.List;
import java.util.Set;

/**
 * Settings of the PPO objective, a typed view of TRL's {@code PPOConfig} names in {@link Settings}
 * (declared, defaulted and explained there; the adaptive KL controller's are TRL's older PPOConfig's).
 *
 * @param numPpoEpochs passes of optimisation over each rollout batch (default 4)
 * @param numMiniBatches optimizer steps per pass (default 1)
 * @param responseLength most tokens generated per completion (default 53)
 * @param maxPromptLength prompts keep their last this many tokens (default 512)
 * @param temperature sampling temperature, also applied to the log-probabilities (default 0.7)
 * @param klCoef weight of the per-token KL penalty, the controller's start (default 0.05)
 * @param klEstimator k1 or k3 (default k1)
 * @param cliprange the policy ratio's clip (default 0.2)
 * @param cliprangeValue the value prediction's clip (default 0.2)
 * @param vfCoef weight of the value loss (default 0.1)
 * @param gamma GAE's discount (default 1)
 * @param lam GAE's lambda (default 0.95)
 * @param adapKlCtrl adapt kl_coef towards target (default false)
 * @param target the KL per completion the controller aims at (default 6)
 * @param horizon the controller's horizon in completions (default 10000)
 * @param rewardFuncs the reward functions' specs
 * @param rewardWeights their weights, empty for 1 each
 */
public record PpoConfig(
        int numPpoEpochs,
        int numMiniBatches,
        int responseLength,
        int maxPromptLength,
        double temperature,
        double klCoef,
        KlEstimator klEstimator,
        double cliprange,
        double cliprangeValue,
        double vfCoef,
        double gamma,
        double lam,
        boolean adapKlCtrl,
        double target,
        double horizon,
        List<String> rewardFuncs,
        List<Double> rewardWeights) {

    public static PpoConfig from(SettingValues settings, Method method) {
        return new PpoConfig(
                settings.get(Settings.NUM_PPO_EPOCHS, method),
                settings.get(Settings.NUM_MINI_BATCHES, method),
                settings.get(Settings.RESPONSE_LENGTH, method),
                settings.get(Settings.MAX_PROMPT_LENGTH, method),
                settings.get(Settings.TEMPERATURE, method, Objective.PPO),
                settings.get(Settings.KL_COEF, method),
                settings.get(Settings.KL_ESTIMATOR, method),
                settings.get(Settings.CLIPRANGE, method),
                settings.get(Settings.CLIPRANGE_VALUE, method),
                settings.get(Settings.VF_COEF, method),
                settings.get(Settings.GAMMA, method),
                settings.get(Settings.LAM, method),
                settings.get(Settings.ADAP_KL_CTRL, method),
                settings.get(Settings.TARGET, method),
                settings.get(Settings.HORIZON, method),
                settings.get(Settings.REWARD_FUNCS, method),
                settings.get(Settings.REWARD_WEIGHTS, method));
    }

    /** Optimizer steps per rollout batch: num_ppo_epochs x num_mini_batches. */
    public int updatesPerRollout() {
        return numPpoEpochs * numMiniBatches;
    }

    /** Whether the reward has a KL term, and so needs the reference's log-probabilities. */
    public boolean usesReference() {
        return klCoef > 0;
    }

    /**
     * The run's plan: items are prompts, a micro-batch per_device_train_batch_size of them and a
     * mini-batch (the plan's data batch) gradient_accumulation_steps micro-batches (TRL's mini_batch_size);
     * a rollout batch is num_mini_batches consecutive mini-batches of prompts, optimised num_ppo_epochs
     * times, so each mini-batch of prompts counts num_ppo_epochs optimizer steps and an epoch is a pass over
     * the prompts, TRL's {@code episode / len(train_dataset)}. The plan's steps are optimizer steps:
     * max_steps if set, else the rollout batches of num_train_epochs passes over the prompts times
     * num_ppo_epochs x num_mini_batches. Its mini-batch k of prompts is {@code batch(k)} (a function of k,
     * so a resumed run draws the same prompts).
     */
    public BatchPlan plan(int prompts, TrainingArguments arguments) {
        BatchPlan prompt = BatchPlan.of(prompts, arguments.batchSize(), arguments);
        int total;
        if (arguments.maxSteps() > 0) {
            total = arguments.maxSteps();
        } else {
            int rollouts = (prompt.totalSteps() + numMiniBatches - 1) / numMiniBatches;
            total = rollouts * updatesPerRollout();
        }
        return new BatchPlan(
                prompt.items(), prompt.batchSize(), prompt.accumulation(), total, prompt.seed(), numPpoEpochs);
    }

    /** The loss these settings describe, its constants held in {@code manager}. */
    public PpoLoss loss(NDManager manager) {
        return new PpoLoss(cliprange, cliprangeValue, vfCoef, manager);
    }

    /** The KL coefficient's controller, starting at kl_coef. */
    public AdaptiveKlController klController() {
        return new AdaptiveKlController(klCoef, adapKlCtrl, target, horizon);
    }

    /** The reward functions and weights; see {@link Rewards#parse} for the errors. */
    public Rewards rewards() {
        return Rewards.parse(Objective.PPO, rewardFuncs, rewardWeights);
    }

    /**
     * How a rollout samples: one completion per prompt with the KV cache at the temperature, from the
     * whole distribution (TRL's PPO sets top_k 0 and top_p 1, so the sampling distribution is the one
     * whose log-probabilities the loss reads), stopping at {@code stopTokens}; sequence r draws from seed + r.
     */
    public GenerationConfig generation(long seed, Set<Long> stopTokens) {
        return GenerationConfig.greedy(responseLength)
                .withSampling(temperature, 1.0, seed)
                .withStopTokens(stopTokens);
    }
}
