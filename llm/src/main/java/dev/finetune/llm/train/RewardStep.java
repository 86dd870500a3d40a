package dev.finetune.llm.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.training.GradientCollector;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.model.GradientMode;
import dev.finetune.llm.model.TrainingPass;
import dev.finetune.llm.objective.LastTokens;
import dev.finetune.llm.objective.PreferenceBatch;
import dev.finetune.llm.objective.PreferencePair;
import dev.finetune.llm.objective.RewardLoss;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reward model training's step, as TRL's {@code RewardTrainer}: the model has a {@code score} head in
 * place of its LM head ({@link CausalLm#attachScoreHead}); each pair's chosen and rejected sequences
 * (prompt and completion) are scored at their last non-padding token ({@link LastTokens}) and the
 * window's loss is the mean over its pairs of {@link RewardLoss}. The head trains with the model (full
 * fine-tuning) or whole beside the adapters (LoRA, PEFT's modules_to_save): it is a trainable parameter
 * either way, so checkpoints and resume hold it. No reference model: nothing of its own to checkpoint.
 * Reports TRL's metrics ({@code accuracy}, {@code margin}, {@code min_reward}, {@code mean_reward},
 * {@code max_reward}), and the same with {@code eval_} on the validation pairs.
 *
 * <p>Dimension letters: B pairs, T time, C channels.
 */
final class RewardStep implements ObjectiveStep {
    private final List<PreferencePair> pairs;
    private final double[] margins;
    private final long padId;
    private final RewardLoss loss;
    private final List<PreferencePair> validation;
    private final double[] validationMargins;
    private final int evalBatchSize;

    /**
     * @param margins each training pair's margin (0 for none)
     * @param validation the validation pairs, evaluated with the same loss; {@code validationMargins} theirs
     * @param evalBatchSize validation pairs per forward pass
     */
    RewardStep(
            List<PreferencePair> pairs,
            double[] margins,
            long padId,
            RewardLoss loss,
            List<PreferencePair> validation,
            double[] validationMargins,
            int evalBatchSize) {
        if (margins.length != pairs.size() || validationMargins.length != validation.size()) {
            throw new IllegalArgumentException("one margin per pair is needed");
        }
        this.pairs = pairs;
        this.margins = margins;
        this.padId = padId;
        this.loss = loss;
        this.validation = validation;
        this.validationMargins = validationMargins;
        this.evalBatchSize = evalBatchSize;
    }

    /**
     * The mean loss of the validation pairs ({@code eval_loss}) and TRL's metrics with the {@code eval_}
     * prefix, without gradients, each batch in its own NDScope.
     */
    @Override
    @SuppressWarnings("try")
    public Map<String, Double> evaluate(CausalLm lm) {
        RewardLoss.Statistics statistics = RewardLoss.Statistics.EMPTY;
        try (GradientMode.Paused paused = GradientMode.pause()) {
            for (int start = 0; start < validation.size(); start += evalBatchSize) {
                int end = Math.min(validation.size(), start + evalBatchSize);
                PreferenceBatch batch = PreferenceBatch.of(validation.subList(start, end), padId);
                try (NDScope ignored = new NDScope()) {
                    NDManager manager = lm.manager();
                    NDArray inputIds = manager.create(batch.ids()); // [2B, T]
                    NDArray hidden =
                            lm.body().forward(inputIds, manager.create(batch.paddingMask()), null); // [2B, T, C]
                    float[] scores = lm.scores(hidden, manager.create(LastTokens.oneHot(batch.ids(), padId)))
                            .toFloatArray(); // [2B]
                    statistics = add(statistics, scores, Arrays.copyOfRange(validationMargins, start, end));
                }
            }
        }
        Map<String, Double> metrics = new LinkedHashMap<>();
        metrics.put("eval_loss", statistics.meanLoss());
        metrics(statistics).forEach((name, value) -> metrics.put("eval_" + name, value));
        return metrics;
    }

    /** {@code statistics} with the pairs scored {@code scores} [2B] (chosen rows first) added. */
    private RewardLoss.Statistics add(RewardLoss.Statistics statistics, float[] scores, double[] pairMargins) {
        int n = scores.length / 2;
        double[] chosen = new double[n];
        double[] rejected = new double[n];
        double[] losses = new double[n];
        for (int i = 0; i < n; i++) {
            chosen[i] = scores[i];
            rejected[i] = scores[n + i];
            losses[i] = loss.loss(chosen[i], rejected[i], pairMargins[i]);
        }
        return statistics.add(chosen, rejected, losses);
    }

    /** TRL's names for the metrics of pairs whose statistics are {@code statistics}. */
    private static Map<String, Double> metrics(RewardLoss.Statistics statistics) {
        Map<String, Double> metrics = new LinkedHashMap<>();
        metrics.put("accuracy", statistics.accuracy());
        metrics.put("margin", statistics.meanMargin());
        metrics.put("min_reward", statistics.min());
        metrics.put("mean_reward", statistics.meanReward());
        metrics.put("max_reward", statistics.max());
        return metrics;
    }

    @Override
    public Window window(List<int[]> microBatches) {
        return new PairWindow(microBatches);
    }

    /** A window's micro-batches; adds up the statistics as they are scored. */
    private final class PairWindow implements Window {
        private final List<int[]> microBatches;
        private final int windowPairs;
        private RewardLoss.Statistics statistics = RewardLoss.Statistics.EMPTY;

        PairWindow(List<int[]> microBatches) {
            this.microBatches = microBatches;
            this.windowPairs = microBatches.stream().mapToInt(m -> m.length).sum();
        }

        @Override
        public MicroBatch microBatch(int index) {
            int[] items = microBatches.get(index);
            float[] batchMargins = new float[items.length];
            double[] pairMargins = new double[items.length];
            List<PreferencePair> slice =
                    Arrays.stream(items).mapToObj(pairs::get).toList();
            for (int i = 0; i < items.length; i++) {
                batchMargins[i] = (float) margins[items[i]];
                pairMargins[i] = margins[items[i]];
            }
            PreferenceBatch batch = PreferenceBatch.of(slice, padId);
            float[][] lastTokens = LastTokens.oneHot(batch.ids(), padId); // [2B, T]
            return new MicroBatch() {
                /**
                 * Scores the 2B rows at their last tokens, back-propagates the pairs' summed loss divided by
                 * the window's pair count into the head and the final hidden states, then on through the
                 * layers.
                 */
                @Override
                public double backward(CausalLm lm, NDManager manager, GradientCollector collector) {
                    NDArray inputIds = manager.create(batch.ids()); // [2B, T]
                    TrainingPass pass = batch.trainingForward(lm, inputIds, manager);
                    NDArray scores = lm.scores(pass.hidden(), manager.create(lastTokens)); // [2B]
                    NDArray perPair = loss.losses(
                            PreferenceBatch.chosen(scores),
                            PreferenceBatch.rejected(scores),
                            manager.create(batchMargins)); // [B]
                    NDArray windowShare = perPair.sum().div(manager.create((float) windowPairs)); // see Attention.scale
                    collector.backward(windowShare);
                    pass.backward(collector);
                    statistics = add(statistics, scores.toFloatArray(), pairMargins);
                    return windowShare.getFloat();
                }

                @Override
                public int tokens() {
                    return batch.tokenCount();
                }
            };
        }

        @Override
        public Map<String, Double> metrics() {
            return RewardStep.metrics(statistics);
        }
    }
}
