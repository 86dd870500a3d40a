package dev.finetune.llm.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.objective.ChunkedLmHead;
import dev.finetune.llm.objective.DpoLoss;
import dev.finetune.llm.objective.PreferenceBatch;
import dev.finetune.llm.objective.PreferencePair;
import dev.finetune.llm.objective.PreferenceScores;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Direct preference optimisation's step: the {@link DpoLoss} of the job's loss_type, summed over the
 * window's pairs and divided by their number, against the {@link ReferenceModel} (adapters off, or
 * scores precomputed before step 1 and kept in each checkpoint: always for full fine-tuning, from the
 * initial weights, and with adapters when precompute_ref_log_probs is set). Scores are completion
 * sums; ipo divides them by the completions' token counts per micro-batch. Reports TRL's reward
 * metrics with each step.
 */
final class DpoStep implements ObjectiveStep {
    private final List<PreferencePair> pairs;
    private final long padId;
    private final DpoLoss loss;
    private final ChunkedLmHead head;
    private final ReferenceModel reference;

    private final List<PreferencePair> validation;
    private final int evalBatchSize;

    /**
     * @param validation the validation pairs, evaluated with the same loss against the same reference
     * @param evalBatchSize validation pairs per forward pass
     */
    DpoStep(
            TrainableModel model,
            List<PreferencePair> pairs,
            long padId,
            DpoConfig dpo,
            List<PreferencePair> validation,
            int evalBatchSize) {
        this(model, pairs, padId, dpo, ChunkedLmHead.defaults(), validation, evalBatchSize);
    }

    /** Without validation pairs, with the LM head's chunk of rows chosen (tests compare chunk sizes). */
    DpoStep(TrainableModel model, List<PreferencePair> pairs, long padId, DpoConfig dpo, ChunkedLmHead head) {
        this(model, pairs, padId, dpo, head, List.of(), 1);
    }

    private DpoStep(
            TrainableModel model,
            List<PreferencePair> pairs,
            long padId,
            DpoConfig dpo,
            ChunkedLmHead head,
            List<PreferencePair> validation,
            int evalBatchSize) {
        this.head = head;
        this.pairs = pairs;
        this.padId = padId;
        this.loss = dpo.loss(model.model().manager());
        this.validation = validation;
        this.evalBatchSize = evalBatchSize;
        this.reference = new ReferenceModel(model, pairs, padId, validation, evalBatchSize);
    }

    /**
     * The reference scores of every pair, training and validation, scored once before step 1: always with
     * full fine-tuning (the initial weights), with adapters when {@code precomputeWithAdapters}
     * (precompute_ref_log_probs). See {@link ReferenceModel#precompute}.
     */
    void precomputeReference(int batchSize, boolean precomputeWithAdapters) {
        reference.precompute(batchSize, precomputeWithAdapters);
    }

    /** The reference this step scores against (tests count its forward passes). */
    ReferenceModel reference() {
        return reference;
    }

    /**
     * The DPO loss of the validation pairs ({@code eval_loss}, their mean) against the same {@link
     * ReferenceModel}, and TRL's reward metrics with the {@code eval_} prefix.
     */
    @Override
    public Map<String, Double> evaluate(CausalLm lm) {
        PreferenceScores policy = reference.policyValidationScores(lm);
        PreferenceScores validationReference = reference.validationScores(lm);
        float[] tokens = PreferenceBatch.of(validation, padId).completionTokens(); // [2N]
        PreferenceScores scores = loss.sequenceScores(policy, tokens);
        PreferenceScores referenceScores = loss.sequenceScores(validationReference, tokens);
        DpoLoss.Statistics statistics = loss.statistics(
                scores.chosen(), scores.rejected(), referenceScores.chosen(), referenceScores.rejected());
        Map<String, Double> metrics = new LinkedHashMap<>();
        metrics.put("eval_loss", statistics.meanLoss());
        rewardMetrics(statistics).forEach((name, value) -> metrics.put("eval_" + name, value));
        return metrics;
    }

    /** TRL's names for the reward metrics. */
    private static Map<String, Double> rewardMetrics(DpoLoss.Statistics statistics) {
        Map<String, Double> metrics = new LinkedHashMap<>();
        metrics.put("rewards/chosen", statistics.meanChosenReward());
        metrics.put("rewards/rejected", statistics.meanRejectedReward());
        metrics.put("rewards/accuracies", statistics.accuracy());
        metrics.put("rewards/margins", statistics.margin());
        metrics.put("logps/chosen", statistics.meanChosenLogProb());
        metrics.put("logps/rejected", statistics.meanRejectedLogProb());
        return metrics;
    }

    @Override
    public Window window(List<int[]> microBatches) {
        return new PairWindow(microBatches);
    }

    @Override
    public List<String> save(Path directory) throws IOException {
        return reference.save(directory);
    }

    @Override
    public void restore(Path directory) throws IOException {
        reference.restore(directory);
    }

    /** A window's micro-batches; adds up the reward statistics of its pairs as they are scored. */
    private final class PairWindow implements Window {
        private final List<int[]> microBatches;
        private final int windowPairs;
        private DpoLoss.Statistics statistics = DpoLoss.Statistics.EMPTY;

        PairWindow(List<int[]> microBatches) {
            this.microBatches = microBatches;
            this.windowPairs = microBatches.stream().mapToInt(m -> m.length).sum();
        }

        @Override
        public MicroBatch microBatch(int index) {
            int[] indices = microBatches.get(index);
            List<PreferencePair> slice = new ArrayList<>();
            for (int i : indices) {
                slice.add(pairs.get(i));
            }
            return new PairBatch(PreferenceBatch.of(slice, padId), reference.scores(indices, slice));
        }

        @Override
        public double loss(double accumulated) {
            return statistics.meanLoss();
        }

        @Override
        public Map<String, Double> metrics() {
            return rewardMetrics(statistics);
        }

        private final class PairBatch implements MicroBatch {
            private final PreferenceBatch batch;
            private final PreferenceScores reference;

            PairBatch(PreferenceBatch batch, PreferenceScores reference) {
                this.batch = batch;
                this.reference = reference;
            }

            /**
             * The loss is not linear in the token log-probabilities: back-propagated to the sequence
             * sums first ({@link PreferenceBatch#backward}).
             */
            @Override
            public double backward(CausalLm lm, NDManager manager, GradientCollector collector) {
                return batch.backward(lm, head, manager, collector, rows -> {
                    float[] tokens = batch.completionTokens(); // [2B]
                    NDArray scores = loss.sequenceScores(rows, manager.create(tokens)); // [2B], per token for ipo
                    PreferenceScores referenceScores = loss.sequenceScores(reference, tokens);
                    float[] policy = scores.toFloatArray();
                    int n = batch.pairs();
                    statistics = statistics.add(loss.statistics(
                            Arrays.copyOfRange(policy, 0, n),
                            Arrays.copyOfRange(policy, n, 2 * n),
                            referenceScores.chosen(),
                            referenceScores.rejected()));
                    NDArray losses = loss.losses(
                            PreferenceBatch.chosen(scores),
                            PreferenceBatch.rejected(scores),
                            manager.create(referenceScores.chosen()),
                            manager.create(referenceScores.rejected())); // [B]
                    return losses.sum().div(manager.create((float) windowPairs)); // see Attention.scale
                });
            }

            @Override
            public int tokens() {
                return batch.tokenCount();
            }
        }
    }
}
