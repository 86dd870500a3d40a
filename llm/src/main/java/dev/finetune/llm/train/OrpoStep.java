package dev.finetune.llm.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.training.GradientCollector;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.model.GradientMode;
import dev.finetune.llm.model.TrainingPass;
import dev.finetune.llm.objective.ChunkedLmHead;
import dev.finetune.llm.objective.OrpoLoss;
import dev.finetune.llm.objective.PreferenceBatch;
import dev.finetune.llm.objective.PreferencePair;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Odds ratio preference optimisation's step, as TRL's {@code ORPOTrainer}: the window's loss is
 *
 * <pre>
 * nll_loss + mean over the window's pairs of beta * -log sigmoid(log_odds)   ({@link OrpoLoss})
 * </pre>
 *
 * where {@code nll_loss} is the mean next-token cross-entropy over every real token of the chosen
 * sequences, prompt included (TRL: "orpo chosen nll loss is computed over the full prompt and
 * response"), averaged over all of the window's chosen tokens so that accumulating micro-batches
 * equals one large batch, and the odds compare each completion's mean log-probability per completion
 * token. No reference model: nothing to precompute or checkpoint. Reports TRL's metrics, and
 * evaluates the validation pairs with the same loss ({@link #evaluate}).
 */
final class OrpoStep implements ObjectiveStep {
    private final List<PreferencePair> pairs;
    private final long padId;
    private final OrpoLoss loss;
    private final ChunkedLmHead head;
    private final List<PreferencePair> validation;
    private final int evalBatchSize;

    /**
     * @param validation the validation pairs, evaluated with the same loss
     * @param evalBatchSize validation pairs per forward pass
     */
    OrpoStep(
            List<PreferencePair> pairs, long padId, OrpoLoss loss, List<PreferencePair> validation, int evalBatchSize) {
        this(pairs, padId, loss, ChunkedLmHead.defaults(), validation, evalBatchSize);
    }

    /** Without validation pairs, with the LM head's chunk of rows chosen (tests compare chunk sizes). */
    OrpoStep(List<PreferencePair> pairs, long padId, OrpoLoss loss, ChunkedLmHead head) {
        this(pairs, padId, loss, head, List.of(), 1);
    }

    /** With both the LM head's chunk of rows and validation pairs (tests). */
    OrpoStep(
            List<PreferencePair> pairs,
            long padId,
            OrpoLoss loss,
            ChunkedLmHead head,
            List<PreferencePair> validation,
            int evalBatchSize) {
        this.pairs = pairs;
        this.padId = padId;
        this.loss = loss;
        this.head = head;
        this.validation = validation;
        this.evalBatchSize = evalBatchSize;
    }

    /**
     * The ORPO loss of the validation pairs as one batch ({@code eval_loss}): the mean NLL of every
     * chosen-sequence token over the whole split plus the mean over its pairs of the odds-ratio term,
     * the training loss's definition (a window's loss equals one large batch's); and TRL's metrics with
     * the {@code eval_} prefix. No gradients; each batch of eval batch size in its own NDScope.
     */
    @Override
    @SuppressWarnings("try")
    public Map<String, Double> evaluate(CausalLm lm) {
        OrpoLoss.Statistics statistics = OrpoLoss.Statistics.EMPTY;
        double negativeLogLikelihood = 0;
        long chosenPredictions = 0;
        try (GradientMode.Paused paused = GradientMode.pause()) {
            for (int start = 0; start < validation.size(); start += evalBatchSize) {
                List<PreferencePair> slice =
                        validation.subList(start, Math.min(validation.size(), start + evalBatchSize));
                PreferenceBatch batch = PreferenceBatch.of(slice, padId);
                float[][] chosen = batch.chosenPredictionMask(); // [2B, T-1]
                float[] tokens = batch.completionTokens(); // [2B]
                try (NDScope ignored = new NDScope()) {
                    NDManager manager = lm.manager();
                    NDArray inputIds = manager.create(batch.ids()); // [2B, T]
                    TrainingPass pass = batch.trainingForward(lm, inputIds, manager);
                    NDArray tokenLogProbs = head.logProbs(lm, pass.hidden(), inputIds); // [2B, T-1]
                    float[] sums = batch.completionSums(tokenLogProbs, manager).toFloatArray(); // [2B]
                    double[] means = new double[sums.length];
                    for (int row = 0; row < means.length; row++) {
                        means[row] = OrpoLoss.meanLogProb(sums[row], tokens[row]);
                    }
                    int n = batch.pairs();
                    statistics = statistics.add(
                            loss.statistics(Arrays.copyOfRange(means, 0, n), Arrays.copyOfRange(means, n, 2 * n)));
                    float[][] logProbs = rows(tokenLogProbs);
                    for (int row = 0; row < logProbs.length; row++) {
                        for (int t = 0; t < logProbs[row].length; t++) {
                            negativeLogLikelihood -= chosen[row][t] * (double) logProbs[row][t];
                        }
                    }
                }
                for (PreferencePair pair : slice) {
                    chosenPredictions += pair.chosenPredictions();
                }
            }
        }
        double nll = negativeLogLikelihood / Math.max(1, chosenPredictions);
        Map<String, Double> metrics = new LinkedHashMap<>();
        metrics.put("eval_loss", nll + statistics.meanLoss());
        metrics(statistics, nll).forEach((name, value) -> metrics.put("eval_" + name, value));
        return metrics;
    }

    /** TRL's names for the metrics of pairs whose odds-ratio statistics are {@code statistics}. */
    private Map<String, Double> metrics(OrpoLoss.Statistics statistics, double nll) {
        Map<String, Double> metrics = new LinkedHashMap<>();
        metrics.put("rewards/chosen", loss.beta() * statistics.meanChosenLogProb());
        metrics.put("rewards/rejected", loss.beta() * statistics.meanRejectedLogProb());
        metrics.put("rewards/accuracies", statistics.accuracy());
        metrics.put(
                "rewards/margins", loss.beta() * (statistics.meanChosenLogProb() - statistics.meanRejectedLogProb()));
        metrics.put("logps/chosen", statistics.meanChosenLogProb());
        metrics.put("logps/rejected", statistics.meanRejectedLogProb());
        metrics.put("nll_loss", nll);
        metrics.put("log_odds_ratio", statistics.meanLogSigmoid());
        metrics.put("log_odds_chosen", statistics.meanLogOdds());
        return metrics;
    }

    @Override
    public Window window(List<int[]> microBatches) {
        return new PairWindow(microBatches);
    }

    /** A window's micro-batches; adds up the odds-ratio statistics and the NLL as they are scored. */
    private final class PairWindow implements Window {
        private final List<int[]> microBatches;
        private final int windowPairs;
        private final int windowChosenPredictions;
        private OrpoLoss.Statistics statistics = OrpoLoss.Statistics.EMPTY;
        private double nll;

        PairWindow(List<int[]> microBatches) {
            this.microBatches = microBatches;
            this.windowPairs = microBatches.stream().mapToInt(m -> m.length).sum();
            this.windowChosenPredictions = microBatches.stream()
                    .flatMapToInt(Arrays::stream)
                    .map(i -> pairs.get(i).chosenPredictions())
                    .sum();
        }

        @Override
        public MicroBatch microBatch(int index) {
            List<PreferencePair> slice = new ArrayList<>();
            for (int i : microBatches.get(index)) {
                slice.add(pairs.get(i));
            }
            return new PairBatch(PreferenceBatch.of(slice, padId));
        }

        @Override
        public Map<String, Double> metrics() {
            return OrpoStep.this.metrics(statistics, nll);
        }

        private final class PairBatch implements MicroBatch {
            private final PreferenceBatch batch;

            PairBatch(PreferenceBatch batch) {
                this.batch = batch;
            }

            /**
             * Scores the token log-probabilities without recording (chunked), back-propagates the
             * odds-ratio term to each completion's mean, then pushes that gradient spread over the
             * completion tokens, plus the NLL's {@code -1 / N} on every chosen token, through the LM head
             * (chunked again) and the layers.
             */
            @Override
            public double backward(CausalLm lm, NDManager manager, GradientCollector collector) {
                NDArray inputIds = manager.create(batch.ids()); // [2B, T]
                TrainingPass pass = batch.trainingForward(lm, inputIds, manager);
                NDArray tokenLogProbs = head.logProbs(lm, pass.hidden(), inputIds); // [2B, T-1]
                float[] sums = batch.completionSums(tokenLogProbs, manager).toFloatArray(); // [2B]
                float[] tokens = batch.completionTokens(); // [2B]
                double[] means = new double[sums.length];
                for (int row = 0; row < means.length; row++) {
                    means[row] = OrpoLoss.meanLogProb(sums[row], tokens[row]);
                }
                int n = batch.pairs();
                statistics = statistics.add(
                        loss.statistics(Arrays.copyOfRange(means, 0, n), Arrays.copyOfRange(means, n, 2 * n)));

                NDArray meanLeaf = manager.create(means); // [2B] float64: the gradient of each row's mean
                meanLeaf.setRequiresGradient(true);
                NDArray oddsRatio = loss.losses(PreferenceBatch.chosen(meanLeaf), PreferenceBatch.rejected(meanLeaf))
                        .sum()
                        .div(manager.create((double) windowPairs)); // see Attention.scale
                collector.backward(oddsRatio);
                double[] perMean = meanLeaf.getGradient().toDoubleArray(); // [2B]

                float[][] completion = batch.completionMask(); // [2B, T-1]
                float[][] chosen = batch.chosenPredictionMask(); // [2B, T-1]
                float perChosenToken = -1f / windowChosenPredictions; // d nll / d log p
                float[][] weights = new float[completion.length][];
                double microNll = 0;
                float[][] logProbs = rows(tokenLogProbs);
                for (int row = 0; row < weights.length; row++) {
                    float perCompletionToken = (float) (perMean[row] / tokens[row]); // d loss / d log p via the mean
                    weights[row] = new float[completion[row].length];
                    for (int t = 0; t < weights[row].length; t++) {
                        weights[row][t] = completion[row][t] * perCompletionToken + chosen[row][t] * perChosenToken;
                        microNll += chosen[row][t] * perChosenToken * logProbs[row][t];
                    }
                }
                head.backward(lm, pass.hidden(), inputIds, manager.create(weights), collector);
                pass.backward(collector);
                nll += microNll;
                return oddsRatio.getDouble() + microNll;
            }

            @Override
            public int tokens() {
                return batch.tokenCount();
            }
        }
    }

    /** A [rows, columns] float array as Java rows. */
    private static float[][] rows(NDArray matrix) {
        int columns = (int) matrix.getShape().get(1);
        float[] flat = matrix.toFloatArray();
        float[][] rows = new float[flat.length / columns][];
        for (int r = 0; r < rows.length; r++) {
            rows[r] = Arrays.copyOfRange(flat, r * columns, (r + 1) * columns);
        }
        return rows;
    }
}
