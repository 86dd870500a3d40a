package dev.finetune.llm.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.training.GradientCollector;
import dev.finetune.llm.lora.Adapters;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.objective.ChunkedLmHead;
import dev.finetune.llm.objective.GrpoBatch;
import dev.finetune.llm.objective.GrpoLoss;
import dev.finetune.llm.rewards.Rewards;
import dev.finetune.llm.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Group relative policy optimisation's step. At the start of each optimizer step's window, with
 * dropout off and no gradients, the policy samples num_generations completions of each of the
 * window's prompts ({@link Rollouts}: seeded from (seed, step), so a resumed run samples what an
 * uninterrupted one does and the rollout RNG needs no state in the checkpoint); the rewards give each
 * completion its advantage. Each micro-batch then scores its completions with the reference (the
 * adapters off; only when beta > 0), and back-propagates the {@link GrpoLoss} of its tokens, weighted
 * for the job's loss_type over the whole window. With num_iterations 1 the old log-probabilities are
 * the policy's own, detached: the ratio is 1 and only its gradient counts, as TRL's.
 *
 * <p>Reports TRL's metrics with each step: reward, reward_std, frac_reward_zero_std,
 * rewards/&lt;function&gt;/mean, completion_length, kl (mean k3 per completion token, when beta > 0),
 * entropy (the policy's next-token entropy over the completion tokens of each micro-batch in its training
 * forward pass, averaged over the micro-batches as TRL averages its per-micro-batch values) and
 * clip_ratio.
 */
final class GrpoStep implements ObjectiveStep {
    private final TrainableModel model;
    private final Tokenizer tokenizer;
    private final List<Rollouts.Prompt> prompts;
    private final List<Rollouts.Prompt> validation;
    private final GrpoConfig config;
    private final GrpoLoss loss;
    private final Rewards rewards;
    private final Set<Long> stopTokens;
    private final long padId;
    private final long evalSeed;
    private final int batchSize;
    private final ChunkedLmHead head = ChunkedLmHead.defaults();

    /**
     * @param prompts the training prompts, encoded
     * @param validation the validation prompts, evaluated by sampling completions with {@code evalSeed}
     * @param rewards config's rewards with their reward models loaded (the recipe closes them)
     * @param stopTokens a completion ends after one of these (the tokenizer's and the model's eos)
     * @param batchSize per_device_train_batch_size, completions per micro-batch (and per evaluation batch)
     */
    GrpoStep(
            TrainableModel model,
            Tokenizer tokenizer,
            List<Rollouts.Prompt> prompts,
            List<Rollouts.Prompt> validation,
            GrpoConfig config,
            Rewards rewards,
            Set<Long> stopTokens,
            long padId,
            long evalSeed,
            int batchSize) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.prompts = prompts;
        this.validation = validation;
        this.config = config;
        this.loss = config.loss(model.model().manager());
        this.rewards = rewards;
        this.stopTokens = Set.copyOf(stopTokens);
        this.padId = padId;
        this.evalSeed = evalSeed;
        this.batchSize = batchSize;
    }

    @Override
    public Window window(List<int[]> microBatches) {
        List<Rollouts.Prompt> stepPrompts = new ArrayList<>();
        for (int[] batch : microBatches) {
            for (int i : batch) {
                stepPrompts.add(prompts.get(i));
            }
        }
        long rolloutSeed = new SplittableRandom(model.stepSeed()).split().nextLong();
        return new RolloutWindow(microBatches, sample(stepPrompts, rolloutSeed, microBatches.get(0).length));
    }

    /** Samples and scores completions of {@code batch} with dropout off, as generation does. */
    private Rollouts sample(List<Rollouts.Prompt> batch, long seed, int batchSize) {
        model.setTraining(false);
        try {
            return Rollouts.sample(
                    model.model(),
                    tokenizer,
                    batch,
                    config.generation(seed, stopTokens),
                    Math.max(1, batchSize),
                    rewards,
                    config.scaleRewards());
        } finally {
            model.setTraining(true);
        }
    }

    /**
     * The rewards of num_generations completions sampled for each validation prompt under the model as
     * it is now, with a fixed seed: {@code eval_reward}, {@code eval_reward_std}, {@code
     * eval_rewards/<function>/mean} and {@code eval_completion_length}. The loop has turned dropout off.
     */
    @Override
    public Map<String, Double> evaluate(CausalLm lm) {
        Rollouts rollouts = Rollouts.sample(
                lm,
                tokenizer,
                validation,
                config.generation(evalSeed, stopTokens),
                Math.max(1, config.promptsPerBatch(batchSize)),
                rewards,
                config.scaleRewards());
        Map<String, Double> metrics = new LinkedHashMap<>();
        rollouts.metrics().forEach((name, value) -> metrics.put("eval_" + name, value));
        return metrics;
    }

    /** A window's completions, split as its micro-batches split the prompts; sums the KL and clip statistics. */
    private final class RolloutWindow implements Window {
        private final List<int[]> microBatches;
        private final Rollouts rollouts;
        private final GrpoLoss.Window totals;
        private double klSum;
        private double entropySum; // of the micro-batches' means
        private int entropyCount;
        private long clipped;
        private long tokens;

        RolloutWindow(List<int[]> microBatches, Rollouts rollouts) {
            this.microBatches = microBatches;
            this.rollouts = rollouts;
            this.totals = new GrpoLoss.Window(
                    rollouts.size(), rollouts.tokens(), microBatches.size(), config.maxCompletionLength());
        }

        @Override
        public MicroBatch microBatch(int index) {
            int first = 0;
            for (int k = 0; k < index; k++) {
                first += microBatches.get(k).length * rollouts.groupSize();
            }
            int end = first + microBatches.get(index).length * rollouts.groupSize();
            GrpoBatch batch = GrpoBatch.of(
                    rollouts.prompts().subList(first, end),
                    rollouts.completions().subList(first, end),
                    padId);
            float[] advantages = new float[end - first];
            for (int i = first; i < end; i++) {
                advantages[i - first] = (float) rollouts.advantages()[i];
            }
            return new RolloutBatch(batch, advantages, loss.usesReference() ? referenceLogProbs(batch) : null);
        }

        /** The reference's token log-probabilities [B * (T-1)], the adapters off, freed before training. */
        @SuppressWarnings("try")
        private float[] referenceLogProbs(GrpoBatch batch) {
            CausalLm lm = model.model();
            try (NDScope ignored = new NDScope();
                    Adapters.Switch off = model.reference()) {
                return batch.tokenLogProbs(lm, lm.manager()).toFloatArray();
            }
        }

        @Override
        public Map<String, Double> metrics() {
            Map<String, Double> metrics = new LinkedHashMap<>(rollouts.metrics());
            if (loss.usesReference()) {
                metrics.put("kl", klSum / Math.max(1, tokens));
            }
            metrics.put("entropy", entropySum / Math.max(1, entropyCount));
            metrics.put("clip_ratio", (double) clipped / Math.max(1, tokens));
            return metrics;
        }

        private final class RolloutBatch implements MicroBatch {
            private final GrpoBatch batch;
            private final float[] advantages;
            private final float[] reference; // [B * (T-1)], null without a KL term

            RolloutBatch(GrpoBatch batch, float[] advantages, float[] reference) {
                this.batch = batch;
                this.advantages = advantages;
                this.reference = reference;
            }

            @Override
            public double backward(CausalLm lm, NDManager manager, GradientCollector collector) {
                float[] weights = GrpoLoss.rowWeights(config.lossType(), batch.completionLengths(), totals);
                return batch.backward(
                        lm,
                        head,
                        manager,
                        collector,
                        logProbs -> {
                    NDArray old = logProbs.stopGradient(); // num_iterations 1: sampled by this very policy
                    NDArray referenceLogProbs =
                            reference == null ? null : manager.create(reference, logProbs.getShape()); // [B, T-1]
                    count(logProbs.toFloatArray(), old.toFloatArray());
                    return loss.loss(
                            logProbs,
                            old,
                            referenceLogProbs,
                            manager.create(advantages), // [B]
                            batch.mask(manager), // [B, T-1]
                            manager.create(weights)); // [B]
                        },
                        entropies -> {
                            entropySum += batch.completionMean(entropies.toFloatArray());
                            entropyCount++;
                        });
            }

            /** Adds this micro-batch's KL and clipping counts over its completion tokens. */
            private void count(float[] policy, float[] old) {
                float[][] mask = batch.completionMask();
                int width = mask[0].length;
                for (int row = 0; row < mask.length; row++) {
                    for (int t = 0; t < width; t++) {
                        if (mask[row][t] == 0) {
                            continue;
                        }
                        int at = row * width + t;
                        if (reference != null) {
                            double delta = (double) reference[at] - policy[at];
                            klSum += Math.exp(delta) - delta - 1;
                        }
                        clipped += loss.clipped(Math.exp((double) policy[at] - old[at]), advantages[row]) ? 1 : 0;
                        tokens++;
                    }
                }
            }

            @Override
            public int tokens() {
                return batch.tokenCount();
            }
        }
    }
}
