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
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Group relative policy optimisation's step. At the start of each generation's first optimizer step,
 * with dropout off and no gradients, the policy samples num_generations completions of each of the
 * step's prompts ({@link Rollouts}: seeded from (seed, step), so a resumed run samples what an
 * uninterrupted one does and the rollout RNG needs no state in the checkpoint); the rewards give each
 * completion its advantage. The generation is optimised by num_iterations (TRL's mu) consecutive
 * optimizer steps, each over the same micro-batches. Each micro-batch scores its completions with the
 * reference (the adapters off; only when beta > 0), and back-propagates the {@link GrpoLoss} of its
 * tokens, weighted for the job's loss_type over the whole window. The ratio's old log-probabilities are
 * those of the policy that generated the batch: with num_iterations 1 the policy's own, detached (the
 * ratio is 1 and only its gradient counts, as TRL's); above 1 TRL's {@code old_per_token_logps},
 * computed once after sampling with dropout off, and kept with the completions in each checkpoint taken
 * in the middle of a generation ({@link #FILE}), so a resumed run optimises what the uninterrupted one
 * does.
 *
 * <p>Reports TRL's metrics with each step: reward, reward_std, frac_reward_zero_std,
 * rewards/&lt;function&gt;/mean, completion_length (of the generation the step optimises), kl (mean k3
 * per completion token, when beta > 0), entropy (the policy's next-token entropy over the completion
 * tokens of each micro-batch in its training forward pass, averaged over the micro-batches as TRL
 * averages its per-micro-batch values) and clip_ratio.
 */
final class GrpoStep implements ObjectiveStep {
    /** The generation in progress, in a checkpoint taken before its last optimizer step (num_iterations > 1). */
    static final String FILE = "grpo_generation.safetensors";

    private static final String STEP = "step";
    private static final String METRIC = "metric:";

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
    private final NDArray inverseTemperature; // logits / temperature = W (h / temperature): the head has no bias

    private Generation generation; // the completions being optimised, null before the first step

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
        this.inverseTemperature = model.model().manager().create((float) (1 / config.temperature()));
        this.rewards = rewards;
        this.stopTokens = Set.copyOf(stopTokens);
        this.padId = padId;
        this.evalSeed = evalSeed;
        this.batchSize = batchSize;
    }

    @Override
    public Window window(List<int[]> microBatches) {
        throw new UnsupportedOperationException("GRPO's steps depend on their index: call window(step, ...)");
    }

    /**
     * Step {@code step}'s window: a new generation at each num_iterations-th step (the plan gives the
     * steps of one generation the same micro-batches), else the one in progress.
     */
    @Override
    public Window window(int step, List<int[]> microBatches) {
        int iteration = step % config.numIterations();
        if (iteration == 0) {
            generation = generate(step, microBatches);
        } else if (generation == null || generation.step() != step - iteration) {
            throw new IllegalStateException("step " + (step + 1) + " optimises the completions generated at step "
                    + (step - iteration + 1) + ", which are neither in memory nor in the checkpoint (" + FILE + ")");
        }
        return new RolloutWindow(microBatches, generation);
    }

    /**
     * The completions of the step's prompts and their advantages; with num_iterations > 1 also each
     * micro-batch's old log-probabilities [B * (T-1)] under the policy as it is now, dropout off.
     */
    @SuppressWarnings("try")
    private Generation generate(int step, List<int[]> microBatches) {
        List<Rollouts.Prompt> stepPrompts = new ArrayList<>();
        for (int[] batch : microBatches) {
            for (int i : batch) {
                stepPrompts.add(prompts.get(i));
            }
        }
        long rolloutSeed = new SplittableRandom(model.stepSeed()).split().nextLong();
        Rollouts rollouts = sample(stepPrompts, rolloutSeed, microBatches.get(0).length);
        Generation sampled = new Generation(
                step, rollouts.completions(), rollouts.advantages(), rollouts.groupSize(), rollouts.metrics(), null);
        if (config.numIterations() == 1) {
            return sampled;
        }
        float[][] old = new float[microBatches.size()][];
        CausalLm lm = model.model();
        model.setTraining(false);
        try {
            for (int index = 0; index < old.length; index++) {
                try (NDScope ignored = new NDScope()) {
                    old[index] = sampled.batch(microBatches, index, prompts, padId)
                            .tokenLogProbs(lm, inverseTemperature, lm.manager())
                            .toFloatArray();
                }
            }
        } finally {
            model.setTraining(true);
        }
        return sampled.withOldLogProbs(old);
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

    /** With num_iterations > 1, the generation in progress: its completions, advantages and old log-probabilities. */
    @Override
    public List<String> save(Path directory) throws IOException {
        if (generation == null || generation.oldLogProbs() == null) {
            return List.of();
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put(STEP, Integer.toString(generation.step()));
        generation.metrics().forEach((name, value) -> metadata.put(METRIC + name, Double.toString(value)));
        List<long[]> completions = generation.completions();
        float[] lengths = new float[completions.size()];
        float[] tokens = new float[generation.tokens()];
        int at = 0;
        for (int r = 0; r < lengths.length; r++) {
            lengths[r] = completions.get(r).length;
            for (long token : completions.get(r)) {
                tokens[at++] = token; // exact: token ids are below 2^24
            }
        }
        float[] advantages = new float[lengths.length];
        for (int r = 0; r < advantages.length; r++) {
            advantages[r] = (float) generation.advantages()[r]; // the loss reads them as floats
        }
        float[][] old = generation.oldLogProbs();
        float[] oldLengths = new float[old.length];
        float[] oldValues = new float[Arrays.stream(old).mapToInt(o -> o.length).sum()];
        at = 0;
        for (int k = 0; k < old.length; k++) {
            oldLengths[k] = old[k].length;
            System.arraycopy(old[k], 0, oldValues, at, old[k].length);
            at += old[k].length;
        }
        Map<String, float[]> vectors = new LinkedHashMap<>();
        vectors.put("lengths", lengths);
        vectors.put("completions", tokens);
        vectors.put("advantages", advantages);
        vectors.put("old_lengths", oldLengths);
        vectors.put("old_logprobs", oldValues);
        TensorFiles.writeVectors(directory.resolve(FILE), vectors, metadata);
        return List.of(FILE);
    }

    /** Restores the generation {@link #save} wrote; a checkpoint without one resumes at a new generation. */
    @Override
    public void restore(Path directory) throws IOException {
        Path file = directory.resolve(FILE);
        if (!Files.exists(file)) {
            generation = null;
            return;
        }
        Map<String, String> metadata = TensorFiles.metadata(file);
        Map<String, float[]> vectors = TensorFiles.read(file);
        float[] lengths = vectors.get("lengths");
        float[] tokens = vectors.get("completions");
        List<long[]> completions = new ArrayList<>();
        int at = 0;
        for (float length : lengths) {
            long[] completion = new long[(int) length];
            for (int t = 0; t < completion.length; t++) {
                completion[t] = (long) tokens[at++];
            }
            completions.add(completion);
        }
        double[] advantages = new double[lengths.length];
        float[] savedAdvantages = vectors.get("advantages");
        for (int r = 0; r < advantages.length; r++) {
            advantages[r] = savedAdvantages[r];
        }
        float[] oldLengths = vectors.get("old_lengths");
        float[] oldValues = vectors.get("old_logprobs");
        float[][] old = new float[oldLengths.length][];
        at = 0;
        for (int k = 0; k < old.length; k++) {
            old[k] = Arrays.copyOfRange(oldValues, at, at + (int) oldLengths[k]);
            at += old[k].length;
        }
        Map<String, Double> metrics = new LinkedHashMap<>();
        metadata.forEach((key, value) -> {
            if (key.startsWith(METRIC)) {
                metrics.put(key.substring(METRIC.length()), Double.parseDouble(value));
            }
        });
        generation = new Generation(
                Integer.parseInt(metadata.get(STEP)), completions, advantages, config.numGenerations(), metrics, old);
    }

    /**
     * The completions a generation optimises, prompt i's j-th at i G + j, in the order of the step's
     * micro-batches.
     *
     * @param step the optimizer step (0-based) that generated them
     * @param metrics the rollouts' metrics ({@link Rollouts#metrics})
     * @param oldLogProbs each micro-batch's log-probabilities [B * (T-1)] under the generating policy, null
     *     with num_iterations 1
     */
    private record Generation(
            int step,
            List<long[]> completions,
            double[] advantages,
            int groupSize,
            Map<String, Double> metrics,
            float[][] oldLogProbs) {

        Generation withOldLogProbs(float[][] values) {
            return new Generation(step, completions, advantages, groupSize, metrics, values);
        }

        int tokens() {
            return completions.stream().mapToInt(c -> c.length).sum();
        }

        /** The first completion of micro-batch {@code index}. */
        int first(List<int[]> microBatches, int index) {
            int first = 0;
            for (int k = 0; k < index; k++) {
                first += microBatches.get(k).length * groupSize;
            }
            return first;
        }

        /** Micro-batch {@code index}'s prompts and completions. */
        GrpoBatch batch(List<int[]> microBatches, int index, List<Rollouts.Prompt> prompts, long padId) {
            int first = first(microBatches, index);
            List<long[]> rows = new ArrayList<>();
            for (int i : microBatches.get(index)) {
                for (int j = 0; j < groupSize; j++) {
                    rows.add(prompts.get(i).tokens());
                }
            }
            return GrpoBatch.of(rows, completions.subList(first, first + rows.size()), padId);
        }
    }

    /** A step's window on its generation: sums the step's KL, entropy and clip statistics. */
    private final class RolloutWindow implements Window {
        private final List<int[]> microBatches;
        private final Generation generation;
        private final GrpoLoss.Window totals;
        private double klSum;
        private double entropySum; // of the micro-batches' means
        private int entropyCount;
        private long clipped;
        private long tokens;

        RolloutWindow(List<int[]> microBatches, Generation generation) {
            this.microBatches = microBatches;
            this.generation = generation;
            this.totals = new GrpoLoss.Window(
                    generation.completions().size(),
                    generation.tokens(),
                    microBatches.size(),
                    config.maxCompletionLength());
        }

        @Override
        public MicroBatch microBatch(int index) {
            GrpoBatch batch = generation.batch(microBatches, index, prompts, padId);
            int first = generation.first(microBatches, index);
            float[] advantages = new float[batch.rows()];
            for (int i = 0; i < advantages.length; i++) {
                advantages[i] = (float) generation.advantages()[first + i];
            }
            float[] old = generation.oldLogProbs() == null ? null : generation.oldLogProbs()[index];
            return new RolloutBatch(batch, advantages, loss.usesReference() ? referenceLogProbs(batch) : null, old);
        }

        /** The reference's token log-probabilities [B * (T-1)], the adapters off, freed before training. */
        @SuppressWarnings("try")
        private float[] referenceLogProbs(GrpoBatch batch) {
            CausalLm lm = model.model();
            try (NDScope ignored = new NDScope();
                    Adapters.Switch off = model.reference()) {
                return batch.tokenLogProbs(lm, inverseTemperature, lm.manager()).toFloatArray();
            }
        }

        @Override
        public Map<String, Double> metrics() {
            Map<String, Double> metrics = new LinkedHashMap<>(generation.metrics());
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
            private final float[] old; // [B * (T-1)], null with num_iterations 1

            RolloutBatch(GrpoBatch batch, float[] advantages, float[] reference, float[] old) {
                this.batch = batch;
                this.advantages = advantages;
                this.reference = reference;
                this.old = old;
            }

            @Override
            public double backward(CausalLm lm, NDManager manager, GradientCollector collector) {
                float[] weights = GrpoLoss.rowWeights(config.lossType(), batch.completionLengths(), totals);
                return batch.backward(
                        lm,
                        head,
                        inverseTemperature,
                        manager,
                        collector,
                        logProbs -> {
                            NDArray old = this.old == null
                                    ? logProbs.stopGradient() // num_iterations 1: sampled by this very policy
                                    : manager.create(this.old, logProbs.getShape()); // [B, T-1]
                            NDArray referenceLogProbs = reference == null
                                    ? null
                                    : manager.create(reference, logProbs.getShape()); // [B, T-1]
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
