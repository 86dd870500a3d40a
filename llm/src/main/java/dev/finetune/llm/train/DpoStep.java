package dev.finetune.llm.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import dev.finetune.llm.lora.Adapters;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.model.GradientMode;
import dev.finetune.llm.model.TrainingPass;
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
 * window's pairs and divided by their number. The reference model is the policy's own starting point:
 * with LoRA and QLoRA the same model with its adapters switched off, scored on each micro-batch before
 * the policy's forward pass; with full fine-tuning, whose initial weights are gone once training
 * starts, the reference log-probabilities of every pair are computed once from the initial weights
 * ({@link #precomputeReference}) and stored in each checkpoint, so a resumed run uses the same. Both
 * are completion sums; ipo divides them by the completions' token counts per micro-batch. Reports
 * TRL's reward metrics with each step.
 */
final class DpoStep implements ObjectiveStep {
    /** The reference log-probabilities in a full fine-tuning checkpoint. */
    static final String REFERENCE_FILE = "reference_logps.safetensors";
    /** The prefix of the validation pairs' reference log-probabilities in {@link #REFERENCE_FILE}. */
    private static final String VALIDATION = "validation/";

    private final TrainableModel model;
    private final List<PreferencePair> pairs;
    private final long padId;
    private final DpoLoss loss;

    private final ChunkedLmHead head;

    private final List<PreferencePair> validation;
    private final int evalBatchSize;

    private PreferenceScores precomputedReference;
    /** The reference's scores of the validation pairs: computed once (or restored), they never change. */
    private PreferenceScores validationReference;

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
        this.model = model;
        this.pairs = pairs;
        this.padId = padId;
        this.loss = dpo.loss(model.model().manager());
        this.validation = validation;
        this.evalBatchSize = evalBatchSize;
    }

    /**
     * With full fine-tuning, scores every pair (training and validation) with the model as it is now
     * (its initial weights), in batches of {@code batchSize}, unless a checkpoint restored the scores
     * already. With adapters there is nothing to do: the reference is the model with its adapters off.
     */
    @SuppressWarnings("try")
    void precomputeReference(int batchSize) {
        if (model.adapters().isEmpty() && precomputedReference == null) {
            try (GradientMode.Paused paused = GradientMode.pause()) {
                precomputedReference = PreferenceScores.of(model.model(), pairs, batchSize, padId);
                if (!validation.isEmpty()) {
                    validationReference = PreferenceScores.of(model.model(), validation, evalBatchSize, padId);
                }
            }
        }
    }

    /**
     * The DPO loss of the validation pairs ({@code eval_loss}, their mean) and TRL's reward metrics
     * with the {@code eval_} prefix.
     */
    @Override
    @SuppressWarnings("try")
    public Map<String, Double> evaluate(CausalLm lm) {
        PreferenceScores policy;
        try (GradientMode.Paused paused = GradientMode.pause()) {
            policy = PreferenceScores.of(lm, validation, evalBatchSize, padId);
            if (validationReference == null) { // adapters: the model with them off
                try (Adapters.Switch off = model.reference()) {
                    validationReference = PreferenceScores.of(lm, validation, evalBatchSize, padId);
                }
            }
        }
        float[] tokens = PreferenceBatch.of(validation, padId).completionTokens(); // [2N]
        PreferenceScores scores = loss.sequenceScores(policy, tokens);
        PreferenceScores reference = loss.sequenceScores(validationReference, tokens);
        DpoLoss.Statistics statistics =
                loss.statistics(scores.chosen(), scores.rejected(), reference.chosen(), reference.rejected());
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
        if (precomputedReference == null || model.adapters().isPresent()) {
            return List.of();
        }
        Map<String, float[]> vectors = new LinkedHashMap<>();
        vectors.put("chosen", precomputedReference.chosen());
        vectors.put("rejected", precomputedReference.rejected());
        if (validationReference != null) {
            vectors.put(VALIDATION + "chosen", validationReference.chosen());
            vectors.put(VALIDATION + "rejected", validationReference.rejected());
        }
        TensorFiles.writeVectors(directory.resolve(REFERENCE_FILE), vectors);
        return List.of(REFERENCE_FILE);
    }

    @Override
    public void restore(Path directory) throws IOException {
        if (model.adapters().isEmpty()) {
            Map<String, float[]> saved = TensorFiles.read(directory.resolve(REFERENCE_FILE));
            precomputedReference = new PreferenceScores(saved.get("chosen"), saved.get("rejected"));
            if (saved.containsKey(VALIDATION + "chosen")) {
                validationReference =
                        new PreferenceScores(saved.get(VALIDATION + "chosen"), saved.get(VALIDATION + "rejected"));
            }
        }
    }

    /** Reference log-probabilities of a micro-batch: precomputed, or the model with adapters off. */
    private PreferenceScores reference(int[] indices, List<PreferencePair> slice) {
        if (precomputedReference != null) {
            return precomputedReference.select(indices);
        }
        try (Adapters.Switch off = model.reference()) {
            return PreferenceScores.of(model.model(), slice, slice.size(), padId);
        }
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
            return new PairBatch(PreferenceBatch.of(slice, padId), reference(indices, slice));
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
             * The loss is not linear in the token log-probabilities: score them first without
             * recording (chunked), back-propagate the DPO loss to the sequence sums, then that
             * gradient through the LM head (chunked again) and the layers.
             */
            @Override
            public double backward(CausalLm lm, NDManager manager, GradientCollector collector) {
                NDArray inputIds = manager.create(batch.ids()); // [2B, T]
                TrainingPass pass = batch.trainingForward(lm, inputIds, manager);
                NDArray rows = batch.completionSums(head.logProbs(lm, pass.hidden(), inputIds), manager); // [2B]
                rows.setRequiresGradient(true); // a leaf: the loss's gradient with respect to each row
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
                NDArray windowLoss = losses.sum().div(manager.create((float) windowPairs)); // see Attention.scale
                collector.backward(windowLoss);
                NDArray tokenWeights = batch.overCompletions(rows.getGradient(), manager); // [2B, T-1]
                head.backward(lm, pass.hidden(), inputIds, tokenWeights, collector);
                pass.backward(collector);
                return windowLoss.getFloat();
            }

            @Override
            public int tokens() {
                return batch.tokenCount();
            }
        }
    }
}
