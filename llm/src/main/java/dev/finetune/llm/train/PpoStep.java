package dev.finetune.llm.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.training.GradientCollector;
import dev.finetune.llm.inference.Generator;
import dev.finetune.llm.lora.Adapters;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.model.GradientMode;
import dev.finetune.llm.model.ValueHead;
import dev.finetune.llm.objective.AdaptiveKlController;
import dev.finetune.llm.objective.ChunkedLmHead;
import dev.finetune.llm.objective.GrpoBatch;
import dev.finetune.llm.objective.PpoBatch;
import dev.finetune.llm.objective.PpoLoss;
import dev.finetune.llm.rewards.Completion;
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
 * Proximal policy optimisation's step, as TRL's {@code PPOTrainer}. Optimizer steps come in cycles of
 * num_ppo_epochs x num_mini_batches. At the first step of a cycle the policy (dropout off: TRL disables
 * dropout in PPO, so the first update's ratio is 1) samples one completion of each prompt of the rollout
 * batch (num_mini_batches mini-batches of prompts, see {@link PpoConfig#plan}); the job's rewards score
 * each at its last token; the policy, its value head and the reference (adapters off) score every
 * completion token; {@link PpoLoss} turns them into per-token rewards, GAE advantages (whitened over the
 * batch) and returns. Each step of the cycle then optimises one mini-batch of those completions, the
 * batch shuffled anew for each PPO epoch (seeded by the cycle and the epoch).
 *
 * <p>Exact resume: the sampling seed is a function of the cycle, and the rollout batch (completions,
 * log-probabilities, values, advantages, returns and its metrics) and the KL coefficient are stored in
 * each checkpoint ({@link #FILE}), so a run resumed in the middle of a cycle optimises what the
 * uninterrupted run does.
 *
 * <p>Metrics, TRL's names: at every step of a cycle its rollouts' {@code objective/scores} (mean reward),
 * {@code objective/kl} (sum over a completion's tokens, mean over completions), {@code objective/entropy}
 * (the same of -logp), {@code objective/non_score_reward}, {@code objective/rlhf_reward}, {@code
 * objective/kl_coef}, {@code rewards/<function>/mean}, {@code completion_length}; and each step's own
 * {@code policy/approxkl_avg} (mean of 0.5 (logp' - logp)^2), {@code policy/clipfrac_avg}, {@code
 * loss/policy_avg}, {@code loss/value_avg}, {@code val/clipfrac_avg} and {@code val/ratio} over its tokens.
 *
 * <p>Dimension letters: B completions, T time.
 */
final class PpoStep implements ObjectiveStep {
    /** The rollout batch of the cycle in progress and the KL coefficient, in each checkpoint. */
    static final String FILE = "ppo_rollouts.safetensors";

    private static final String KL_COEF = "kl_coef";
    private static final String CYCLE = "cycle";
    private static final String METRIC = "metric:";

    private final TrainableModel model;
    private final ValueHead valueHead;
    private final Tokenizer tokenizer;
    private final List<Rollouts.Prompt> prompts;
    private final List<Rollouts.Prompt> validation;
    private final PpoConfig config;
    private final PpoLoss loss;
    private final Rewards rewards;
    private final AdaptiveKlController klController;
    private final Set<Long> stopTokens;
    private final long padId;
    private final long seed;
    private final BatchPlan plan;
    private final int batchSize;
    private final ChunkedLmHead head = ChunkedLmHead.defaults();
    private final NDArray inverseTemperature; // logits / temperature = W (h / temperature): the head has no bias

    private RolloutBatch batch; // the cycle in progress

    /**
     * @param rewards config's rewards with their reward models loaded (the recipe closes them)
     * @param plan the run's plan, whose data batch k ({@code batch(k)}) is mini-batch k's prompts
     * @param seed the run's seed: sampling and shuffling are functions of it and the cycle
     * @param batchSize per_device_train_batch_size, completions per micro-batch
     */
    PpoStep(
            TrainableModel model,
            Tokenizer tokenizer,
            List<Rollouts.Prompt> prompts,
            List<Rollouts.Prompt> validation,
            PpoConfig config,
            Rewards rewards,
            Set<Long> stopTokens,
            long padId,
            long seed,
            BatchPlan plan,
            int batchSize) {
        this.model = model;
        this.valueHead = model.valueHead().orElseThrow(() -> new IllegalArgumentException("PPO needs a value head"));
        this.tokenizer = tokenizer;
        this.prompts = prompts;
        this.validation = validation;
        this.config = config;
        this.loss = config.loss(model.model().manager());
        this.rewards = rewards;
        this.klController = config.klController();
        this.stopTokens = Set.copyOf(stopTokens);
        this.padId = padId;
        this.seed = seed;
        this.plan = plan;
        this.batchSize = batchSize;
        this.inverseTemperature = model.model().manager().create((float) (1 / config.temperature()));
    }

    @Override
    public Window window(List<int[]> microBatches) {
        throw new UnsupportedOperationException("PPO's steps depend on their index: call window(step, ...)");
    }

    @Override
    public Window window(int step, List<int[]> ignored) {
        model.setTraining(false); // no dropout anywhere in PPO, as TRL's
        int cycle = step / config.updatesPerRollout();
        int within = step % config.updatesPerRollout();
        if (batch == null || batch.cycle != cycle) {
            batch = rollout(cycle);
        }
        int epoch = within / config.numMiniBatches();
        int miniBatch = within % config.numMiniBatches();
        return new UpdateWindow(batch.miniBatch(seed, epoch, miniBatch, config.numMiniBatches()));
    }

    /** The sampling seed of a cycle. */
    private long cycleSeed(int cycle, int salt) {
        return new SplittableRandom(seed * 0x9E3779B97F4A7C15L + cycle).split().nextLong() + salt;
    }

    /** Samples, rewards and scores the rollout batch of {@code cycle}, then updates the KL controller. */
    private RolloutBatch rollout(int cycle) {
        List<Integer> rows = new ArrayList<>();
        for (int k = cycle * config.numMiniBatches(); k < (cycle + 1) * config.numMiniBatches(); k++) {
            for (int[] micro : plan.batch(k)) {
                Arrays.stream(micro).forEach(rows::add);
            }
        }
        List<Rollouts.Prompt> batchPrompts = rows.stream().map(prompts::get).toList();
        Sample sample = sample(model.model(), batchPrompts, cycleSeed(cycle, 0));
        double klCoef = klController.value();
        RolloutBatch scored =
                score(cycle, rows.stream().mapToInt(Integer::intValue).toArray(), sample, klCoef);
        klController.update(scored.metrics.get("objective/kl"), rows.size());
        return scored;
    }

    /** One completion per prompt, sampled without gradients, and its rewards. */
    private record Sample(List<long[]> completions, Rewards.Scores scores) {}

    @SuppressWarnings("try")
    private Sample sample(CausalLm lm, List<Rollouts.Prompt> batchPrompts, long sampleSeed) {
        List<long[]> completions;
        try (GradientMode.Paused paused = GradientMode.pause()) {
            completions = Generator.generate(
                    lm,
                    batchPrompts.stream().map(Rollouts.Prompt::tokens).toList(),
                    config.generation(sampleSeed, stopTokens),
                    batchSize);
        }
        List<Completion> scored = new ArrayList<>();
        for (int r = 0; r < completions.size(); r++) {
            long[] completion = completions.get(r);
            String text = tokenizer.decode(
                    Arrays.stream(completion).mapToInt(id -> (int) id).toArray(), true);
            Rollouts.Prompt prompt = batchPrompts.get(r);
            scored.add(new Completion(prompt.tokens(), completion, text, prompt.reference()));
        }
        return new Sample(completions, rewards.score(scored));
    }

    /**
     * The policy's and the reference's log-probabilities and the values of every completion token, the
     * per-token rewards, GAE and whitening: the rollout batch as it is optimised.
     */
    private RolloutBatch score(int cycle, int[] rows, Sample sample, double klCoef) {
        int n = rows.length;
        float[][] logProbs = new float[n][];
        float[][] values = new float[n][];
        float[][] referenceLogProbs = new float[n][];
        for (int start = 0; start < n; start += batchSize) {
            int end = Math.min(n, start + batchSize);
            GrpoBatch chunk = GrpoBatch.of(
                    Arrays.stream(rows, start, end)
                            .mapToObj(i -> prompts.get(i).tokens())
                            .toList(),
                    sample.completions.subList(start, end),
                    padId);
            float[][][] policy = policyScores(chunk);
            float[][] reference = config.usesReference() ? referenceLogProbs(chunk) : policy[0];
            for (int i = start; i < end; i++) {
                logProbs[i] = policy[0][i - start];
                values[i] = policy[1][i - start];
                referenceLogProbs[i] = reference[i - start];
            }
        }
        double[] scores = sample.scores.total();
        List<double[]> advantages = new ArrayList<>();
        float[][] returns = new float[n][];
        double klSum = 0;
        double entropySum = 0;
        double nonScoreSum = 0;
        for (int i = 0; i < n; i++) {
            PpoLoss.TokenRewards tokenRewards = PpoLoss.tokenRewards(
                    toDoubles(logProbs[i]), toDoubles(referenceLogProbs[i]), scores[i], klCoef, config.klEstimator());
            double[] v = toDoubles(values[i]);
            double[] a = PpoLoss.advantages(tokenRewards.rewards(), v, config.gamma(), config.lam());
            returns[i] = new float[a.length];
            for (int t = 0; t < a.length; t++) {
                returns[i][t] = (float) (a[t] + v[t]);
                klSum += tokenRewards.kl()[t];
                entropySum -= logProbs[i][t];
                nonScoreSum -= klCoef * tokenRewards.kl()[t];
            }
            advantages.add(a);
        }
        PpoLoss.whiten(advantages);
        float[][] whitened = new float[n][];
        for (int i = 0; i < n; i++) {
            whitened[i] = toFloats(advantages.get(i));
        }
        Map<String, Double> metrics = new LinkedHashMap<>();
        double meanScore = Arrays.stream(scores).average().orElse(0);
        metrics.put("objective/scores", meanScore);
        metrics.put("objective/kl", klSum / n);
        metrics.put("objective/entropy", entropySum / n);
        metrics.put("objective/non_score_reward", nonScoreSum / n);
        metrics.put("objective/rlhf_reward", meanScore + nonScoreSum / n);
        metrics.put("objective/kl_coef", klCoef);
        sample.scores
                .perFunction()
                .forEach((name, functionScores) -> metrics.put(
                        "rewards/" + name + "/mean",
                        Arrays.stream(functionScores).average().orElse(0)));
        metrics.put(
                "completion_length",
                sample.completions.stream().mapToInt(c -> c.length).average().orElse(0));
        return new RolloutBatch(cycle, rows, sample.completions, logProbs, values, whitened, returns, metrics);
    }

    /**
     * The policy's (tempered) log-probabilities and values of each completion token of {@code chunk}:
     * {@code [0]} and {@code [1]}, each row its completion's tokens.
     */
    @SuppressWarnings("try")
    private float[][][] policyScores(GrpoBatch chunk) {
        CausalLm lm = model.model();
        try (NDScope ignored = new NDScope();
                GradientMode.Paused paused = GradientMode.pause()) {
            NDManager manager = lm.manager();
            NDArray inputIds = manager.create(chunk.ids()); // [B, T]
            NDArray hidden = lm.body().forward(inputIds, manager.create(chunk.paddingMask()), null); // [B, T, C]
            float[] logProbs =
                    head.logProbs(lm, hidden.mul(inverseTemperature), inputIds).toFloatArray(); // [B*(T-1)]
            float[] values =
                    valueHead.forward(hidden).get(new NDIndex(":, :-1")).toFloatArray(); // [B, T-1]
            return new float[][][] {completionTokens(chunk, logProbs), completionTokens(chunk, values)};
        }
    }

    /** The reference's (tempered) log-probabilities of each completion token: the adapters off. */
    @SuppressWarnings("try")
    private float[][] referenceLogProbs(GrpoBatch chunk) {
        CausalLm lm = model.model();
        try (NDScope ignored = new NDScope();
                GradientMode.Paused paused = GradientMode.pause();
                Adapters.Switch off = model.reference()) {
            NDManager manager = lm.manager();
            NDArray inputIds = manager.create(chunk.ids()); // [B, T]
            NDArray hidden = lm.body().forward(inputIds, manager.create(chunk.paddingMask()), null); // [B, T, C]
            return completionTokens(
                    chunk,
                    head.logProbs(lm, hidden.mul(inverseTemperature), inputIds).toFloatArray());
        }
    }

    /** The entries of a flat [B, T-1] array at each row's completion positions. */
    private static float[][] completionTokens(GrpoBatch chunk, float[] flat) {
        float[][] mask = chunk.completionMask();
        int width = mask[0].length;
        float[][] rows = new float[mask.length][];
        for (int row = 0; row < mask.length; row++) {
            float[] values = new float[chunk.completionLengths()[row]];
            int k = 0;
            for (int t = 0; t < width; t++) {
                if (mask[row][t] != 0) {
                    values[k++] = flat[row * width + t];
                }
            }
            rows[row] = values;
        }
        return rows;
    }

    /** A rollout batch's completions' values spread over a padded [B, T-1] block at their positions. */
    private static float[][] spread(GrpoBatch chunk, List<float[]> rows) {
        float[][] mask = chunk.completionMask();
        float[][] block = new float[mask.length][mask[0].length];
        for (int row = 0; row < mask.length; row++) {
            int k = 0;
            for (int t = 0; t < mask[row].length; t++) {
                if (mask[row][t] != 0) {
                    block[row][t] = rows.get(row)[k++];
                }
            }
        }
        return block;
    }

    private static double[] toDoubles(float[] values) {
        double[] doubles = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            doubles[i] = values[i];
        }
        return doubles;
    }

    private static float[] toFloats(double[] values) {
        float[] floats = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            floats[i] = (float) values[i];
        }
        return floats;
    }

    /**
     * The rewards of one completion sampled for each validation prompt under the model as it is now, with
     * a fixed seed: {@code eval_objective/scores}, {@code eval_rewards/<function>/mean} and {@code
     * eval_completion_length}. The loop has turned dropout off.
     */
    @Override
    public Map<String, Double> evaluate(CausalLm lm) {
        Sample sample = sample(lm, validation, cycleSeed(-1, 0));
        Map<String, Double> metrics = new LinkedHashMap<>();
        metrics.put(
                "eval_objective/scores",
                Arrays.stream(sample.scores.total()).average().orElse(0));
        sample.scores
                .perFunction()
                .forEach((name, scores) -> metrics.put(
                        "eval_rewards/" + name + "/mean",
                        Arrays.stream(scores).average().orElse(0)));
        metrics.put(
                "eval_completion_length",
                sample.completions.stream().mapToInt(c -> c.length).average().orElse(0));
        return metrics;
    }

    @Override
    public List<String> save(Path directory) throws IOException {
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put(KL_COEF, Double.toString(klController.value()));
        Map<String, float[]> vectors = new LinkedHashMap<>();
        if (batch == null) {
            vectors.put(KL_COEF, new float[] {(float) klController.value()}); // a file needs a tensor
        } else {
            metadata.put(CYCLE, Integer.toString(batch.cycle));
            batch.metrics.forEach((name, value) -> metadata.put(METRIC + name, Double.toString(value)));
            vectors.put("rows", toFloatRows(batch.rows));
            vectors.put(
                    "lengths",
                    toFloatRows(
                            batch.completions.stream().mapToInt(c -> c.length).toArray()));
            vectors.put(
                    "completions",
                    flatten(batch.completions.stream().map(PpoStep::toFloats).toList()));
            vectors.put("logprobs", flatten(Arrays.asList(batch.logProbs)));
            vectors.put("values", flatten(Arrays.asList(batch.values)));
            vectors.put("advantages", flatten(Arrays.asList(batch.advantages)));
            vectors.put("returns", flatten(Arrays.asList(batch.returns)));
        }
        TensorFiles.writeVectors(directory.resolve(FILE), vectors, metadata);
        return List.of(FILE);
    }

    @Override
    public void restore(Path directory) throws IOException {
        Path file = directory.resolve(FILE);
        if (!Files.exists(file)) {
            throw new TrainConfigException(file + " is missing: the checkpoint was not written by a ppo run");
        }
        Map<String, String> metadata = TensorFiles.metadata(file);
        klController.restore(Double.parseDouble(metadata.get(KL_COEF)));
        if (!metadata.containsKey(CYCLE)) {
            batch = null;
            return;
        }
        Map<String, float[]> vectors = TensorFiles.read(file);
        int[] rows = toInts(vectors.get("rows"));
        int[] lengths = toInts(vectors.get("lengths"));
        float[] tokens = vectors.get("completions");
        List<long[]> completions = new ArrayList<>();
        int at = 0;
        for (int length : lengths) {
            long[] completion = new long[length];
            for (int t = 0; t < length; t++) {
                completion[t] = (long) tokens[at++];
            }
            completions.add(completion);
        }
        Map<String, Double> metrics = new LinkedHashMap<>();
        metadata.forEach((key, value) -> {
            if (key.startsWith(METRIC)) {
                metrics.put(key.substring(METRIC.length()), Double.parseDouble(value));
            }
        });
        batch = new RolloutBatch(
                Integer.parseInt(metadata.get(CYCLE)),
                rows,
                completions,
                unflatten(vectors.get("logprobs"), lengths),
                unflatten(vectors.get("values"), lengths),
                unflatten(vectors.get("advantages"), lengths),
                unflatten(vectors.get("returns"), lengths),
                metrics);
    }

    private static float[] toFloats(long[] values) {
        float[] floats = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            floats[i] = values[i]; // token ids below 2^24 are exact in fp32
        }
        return floats;
    }

    private static float[] toFloatRows(int[] values) {
        float[] floats = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            floats[i] = values[i];
        }
        return floats;
    }

    private static int[] toInts(float[] values) {
        int[] ints = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            ints[i] = (int) values[i];
        }
        return ints;
    }

    private static float[] flatten(List<float[]> rows) {
        float[] flat = new float[rows.stream().mapToInt(r -> r.length).sum()];
        int at = 0;
        for (float[] row : rows) {
            System.arraycopy(row, 0, flat, at, row.length);
            at += row.length;
        }
        return flat;
    }

    private static float[][] unflatten(float[] flat, int[] lengths) {
        float[][] rows = new float[lengths.length][];
        int at = 0;
        for (int i = 0; i < lengths.length; i++) {
            rows[i] = Arrays.copyOfRange(flat, at, at + lengths[i]);
            at += lengths[i];
        }
        return rows;
    }

    /**
     * A cycle's rollouts, row i the completion of prompt {@code rows[i]} with each of its tokens' values.
     *
     * @param metrics the rollouts' objective/* metrics
     */
    private record RolloutBatch(
            int cycle,
            int[] rows,
            List<long[]> completions,
            float[][] logProbs,
            float[][] values,
            float[][] advantages,
            float[][] returns,
            Map<String, Double> metrics) {

        /**
         * The batch's rows of mini-batch {@code miniBatch} of PPO epoch {@code epoch}: the batch shuffled
         * by a generator seeded with (seed, cycle, epoch), as TRL's per-epoch permutation, cut in {@code
         * miniBatches} near-equal parts.
         */
        int[] miniBatch(long seed, int epoch, int miniBatch, int miniBatches) {
            int n = rows.length;
            int[] order = new int[n];
            for (int i = 0; i < n; i++) {
                order[i] = i;
            }
            SplittableRandom random = new SplittableRandom((seed * 0x9E3779B97F4A7C15L + cycle) * 31 + epoch);
            for (int i = n - 1; i > 0; i--) {
                int j = random.nextInt(i + 1);
                int swap = order[i];
                order[i] = order[j];
                order[j] = swap;
            }
            int from = (int) ((long) n * miniBatch / miniBatches);
            int to = (int) ((long) n * (miniBatch + 1) / miniBatches);
            return Arrays.copyOfRange(order, from, to);
        }
    }

    /** One optimizer step: a mini-batch of the rollout batch in micro-batches of per_device_train_batch_size. */
    private final class UpdateWindow implements Window {
        private final int[] items; // rows of the rollout batch
        private final int tokens; // completion tokens of the mini-batch
        private double approxKl;
        private double ratioSum;
        private double policyLoss;
        private double valueLoss;
        private long policyClipped;
        private long valueClipped;
        private long counted;

        UpdateWindow(int[] items) {
            this.items = items;
            this.tokens = Arrays.stream(items)
                    .map(i -> batch.completions.get(i).length)
                    .sum();
        }

        @Override
        public int microBatchCount(int planned) {
            return (items.length + batchSize - 1) / batchSize;
        }

        @Override
        public MicroBatch microBatch(int index) {
            int start = index * batchSize;
            int[] slice = Arrays.copyOfRange(items, start, Math.min(items.length, start + batchSize));
            RolloutBatch rollouts = batch;
            GrpoBatch chunk = GrpoBatch.of(
                    Arrays.stream(slice)
                            .mapToObj(i -> prompts.get(rollouts.rows[i]).tokens())
                            .toList(),
                    Arrays.stream(slice).mapToObj(rollouts.completions::get).toList(),
                    padId);
            return new UpdateBatch(
                    chunk,
                    spread(
                            chunk,
                            Arrays.stream(slice)
                                    .mapToObj(i -> rollouts.logProbs[i])
                                    .toList()),
                    spread(
                            chunk,
                            Arrays.stream(slice)
                                    .mapToObj(i -> rollouts.values[i])
                                    .toList()),
                    spread(
                            chunk,
                            Arrays.stream(slice)
                                    .mapToObj(i -> rollouts.advantages[i])
                                    .toList()),
                    spread(
                            chunk,
                            Arrays.stream(slice)
                                    .mapToObj(i -> rollouts.returns[i])
                                    .toList()));
        }

        @Override
        public Map<String, Double> metrics() {
            Map<String, Double> metrics = new LinkedHashMap<>(batch.metrics);
            double n = Math.max(1, counted);
            metrics.put("policy/approxkl_avg", approxKl / n);
            metrics.put("policy/clipfrac_avg", policyClipped / n);
            metrics.put("loss/policy_avg", policyLoss / n);
            metrics.put("loss/value_avg", valueLoss / n);
            metrics.put("val/clipfrac_avg", valueClipped / n);
            metrics.put("val/ratio", ratioSum / n);
            return metrics;
        }

        private final class UpdateBatch implements MicroBatch {
            private final GrpoBatch chunk;
            private final float[][] oldLogProbs; // [B, T-1], 0 off the completions
            private final float[][] oldValues;
            private final float[][] advantages;
            private final float[][] returns;

            UpdateBatch(
                    GrpoBatch chunk,
                    float[][] oldLogProbs,
                    float[][] oldValues,
                    float[][] advantages,
                    float[][] returns) {
                this.chunk = chunk;
                this.oldLogProbs = oldLogProbs;
                this.oldValues = oldValues;
                this.advantages = advantages;
                this.returns = returns;
            }

            @Override
            public double backward(CausalLm lm, NDManager manager, GradientCollector collector) {
                PpoBatch.Result result = new PpoBatch(chunk, oldLogProbs, oldValues, advantages, returns)
                        .backward(
                                lm,
                                valueHead,
                                head,
                                loss,
                                inverseTemperature,
                                manager.create((float) (1.0 / Math.max(1, tokens))),
                                manager,
                                collector);
                count(result.logProbs(), result.values());
                return result.loss();
            }

            /** Adds this micro-batch's statistics over its completion tokens. */
            private void count(float[] policy, float[] predicted) {
                float[][] mask = chunk.completionMask();
                int width = mask[0].length;
                for (int row = 0; row < mask.length; row++) {
                    for (int t = 0; t < width; t++) {
                        if (mask[row][t] == 0) {
                            continue;
                        }
                        double logRatio = (double) policy[row * width + t] - oldLogProbs[row][t];
                        double ratio = Math.exp(logRatio);
                        double a = advantages[row][t];
                        double v = predicted[row * width + t];
                        double oldV = oldValues[row][t];
                        double target = returns[row][t];
                        double clippedRatio = Math.max(1 - config.cliprange(), Math.min(1 + config.cliprange(), ratio));
                        double clippedValue =
                                oldV + Math.max(-config.cliprangeValue(), Math.min(config.cliprangeValue(), v - oldV));
                        approxKl += 0.5 * logRatio * logRatio;
                        ratioSum += ratio;
                        policyLoss += Math.max(-a * ratio, -a * clippedRatio);
                        valueLoss += 0.5
                                * Math.max(
                                        (v - target) * (v - target), (clippedValue - target) * (clippedValue - target));
                        policyClipped += loss.policyClipped(ratio, a) ? 1 : 0;
                        valueClipped += loss.valueClipped(v, oldV, target) ? 1 : 0;
                        counted++;
                    }
                }
            }

            @Override
            public int tokens() {
                return chunk.tokenCount();
            }
        }
    }
}
