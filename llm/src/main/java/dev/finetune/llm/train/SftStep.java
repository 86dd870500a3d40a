package dev.finetune.llm.train;

import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.objective.ChunkedLmHead;
import dev.finetune.llm.objective.SftBatch;
import dev.finetune.llm.objective.SftLoss;
import dev.finetune.llm.objective.TrainingSequence;
import java.util.ArrayList;
import java.util.List;

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

    /**
     * @param items the training items: tokenized examples, or packed rows of them
     * @param packed whether the items are packed rows (run with their position ids)
     */
    SftStep(List<TrainingSequence> items, long padId, boolean packed) {
        this(items, padId, packed, ChunkedLmHead.defaults());
    }

    /** As above, with the LM head's chunk of rows chosen (tests compare chunk sizes). */
    SftStep(List<TrainingSequence> items, long padId, boolean packed, ChunkedLmHead head) {
        this.head = head;
        this.items = items;
        this.padId = padId;
        this.packed = packed;
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
