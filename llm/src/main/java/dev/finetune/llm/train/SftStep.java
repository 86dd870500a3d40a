package dev.finetune.llm.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.training.GradientCollector;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.model.GradientMode;
import dev.finetune.llm.model.TrainingPass;
import dev.finetune.llm.objective.ChunkedLmHead;
import dev.finetune.llm.objective.SftBatch;
import dev.finetune.llm.objective.SftLoss;
import dev.finetune.llm.objective.TrainingSequence;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Supervised fine-tuning's step: the next-token cross-entropy of the target tokens, averaged over
 * every target token of the accumulation window (so accumulating micro-batches equals one large
 * batch).
 */
final class SftStep implements ObjectiveStep {
    private final List<TrainingSequence> items;
    private final long padId;
    private final boolean packed;
    private final ChunkedLmHead head;
    private final List<TrainingSequence> validation;
    private final int evalBatchSize;

    /**
     * @param items the training items: tokenized examples, or packed rows of them
     * @param packed whether the items are packed rows (run with their position ids)
     * @param validation tokenized validation examples (never packed: one example a row)
     * @param evalBatchSize validation examples per forward pass
     */
    SftStep(
            List<TrainingSequence> items,
            long padId,
            boolean packed,
            List<TrainingSequence> validation,
            int evalBatchSize) {
        this(items, padId, packed, ChunkedLmHead.defaults(), validation, evalBatchSize);
    }

    /** Without validation data, with the LM head's chunk of rows chosen (tests compare chunk sizes). */
    SftStep(List<TrainingSequence> items, long padId, boolean packed, ChunkedLmHead head) {
        this(items, padId, packed, head, List.of(), 1);
    }

    private SftStep(
            List<TrainingSequence> items,
            long padId,
            boolean packed,
            ChunkedLmHead head,
            List<TrainingSequence> validation,
            int evalBatchSize) {
        this.head = head;
        this.items = items;
        this.padId = padId;
        this.packed = packed;
        this.validation = validation;
        this.evalBatchSize = evalBatchSize;
    }

    /**
     * {@code eval_loss}: the mean negative log-likelihood of every target token of the validation
     * examples (the training loss's definition, over the whole split), the LM head in chunks.
     */
    @Override
    @SuppressWarnings("try")
    public Map<String, Double> evaluate(CausalLm model) {
        double negativeLogLikelihood = 0;
        long targets = 0;
        try (GradientMode.Paused paused = GradientMode.pause()) {
            for (int start = 0; start < validation.size(); start += evalBatchSize) {
                SftBatch batch = SftBatch.of(
                        validation.subList(start, Math.min(validation.size(), start + evalBatchSize)), padId, false);
                float[][] mask = batch.lossMask(); // [B, T-1]
                try (NDScope ignored = new NDScope()) {
                    NDArray inputIds = model.manager().create(batch.ids()); // [B, T]
                    TrainingPass pass = batch.trainingForward(model, inputIds, model.manager());
                    float[] logProbs =
                            head.logProbs(model, pass.hidden(), inputIds).toFloatArray(); // [B * (T-1)]
                    int row = mask[0].length;
                    for (int i = 0; i < logProbs.length; i++) {
                        negativeLogLikelihood -= mask[i / row][i % row] * (double) logProbs[i];
                    }
                }
                targets += batch.targetCount();
            }
        }
        return Map.of("eval_loss", negativeLogLikelihood / Math.max(1, targets));
    }

    @Override
    public Window window(List<int[]> microBatches) {
        List<SftBatch> batches = new ArrayList<>();
        for (int[] micro : microBatches) {
            List<TrainingSequence> rows = new ArrayList<>();
            for (int item : micro) {
                rows.add(items.get(item));
            }
            batches.add(SftBatch.of(rows, padId, packed));
        }
        int windowTargets = batches.stream().mapToInt(SftBatch::targetCount).sum();
        return index -> new Micro(batches.get(index), windowTargets, head);
    }

    private record Micro(SftBatch batch, int windowTargets, ChunkedLmHead head) implements MicroBatch {
        @Override
        public double backward(CausalLm model, NDManager manager, GradientCollector collector) {
            return SftLoss.backward(model, batch, windowTargets, head, manager, collector);
        }

        @Override
        public int tokens() {
            return batch.tokenCount();
        }
    }
}
