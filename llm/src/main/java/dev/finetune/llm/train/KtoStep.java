package dev.finetune.llm.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.objective.ChunkedLmHead;
import dev.finetune.llm.objective.KtoLoss;
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
 * Kahneman-Tversky optimisation's step, as TRL's {@code KTOTrainer}: the {@link KtoLoss} of each
 * example, summed over the window and divided by its number of examples, against the {@link
 * ReferenceModel} (adapters off, or the initial weights' scores for full fine-tuning, kept in each
 * checkpoint).
 *
 * <p>Each item is laid out as a {@link PreferencePair} whose first completion is the example's own and
 * whose second is its KL completion: the completion of the example before it in its group of
 * per_device_train_batch_size examples, in file order (the first takes the last's), which is how
 * TRL's {@code _get_kl_dataset} pairs them before shuffling (see {@link
 * dev.finetune.llm.objective.LabelledCompletion#withKlCompletions}). A micro-batch
 * scores both in one forward pass; its KL estimate is the mean policy-minus-reference log-probability
 * of its KL rows, clamped at 0 and detached, so the KL rows get no gradient. TRL gathers the estimate
 * over the devices of one step; here it is the micro-batch's. Log-probabilities are completion sums,
 * as TRL's. Reports TRL's metrics, desirable examples as "chosen", undesirable ones as "rejected".
 */
final class KtoStep implements ObjectiveStep {
    private final List<PreferencePair> items;
    private final boolean[] desirable;
    private final long padId;
    private final KtoLoss loss;
    private final ChunkedLmHead head;
    private final ReferenceModel reference;

    /**
     * @param items each example's prompt, completion and KL completion
     * @param desirable each example's label
     */
    KtoStep(TrainableModel model, List<PreferencePair> items, boolean[] desirable, long padId, KtoLoss loss) {
        this(model, items, desirable, padId, loss, ChunkedLmHead.defaults());
    }

    /** As above, with the LM head's chunk of rows chosen (tests compare chunk sizes). */
    KtoStep(
            TrainableModel model,
            List<PreferencePair> items,
            boolean[] desirable,
            long padId,
            KtoLoss loss,
            ChunkedLmHead head) {
        if (desirable.length != items.size()) {
            throw new IllegalArgumentException(
                    "need a label for each of " + items.size() + " examples, got " + desirable.length);
        }
        this.items = items;
        this.desirable = desirable;
        this.padId = padId;
        this.loss = loss;
        this.head = head;
        this.reference = new ReferenceModel(model, items, padId);
    }

    /** With full fine-tuning, the reference scores of every item from the initial weights. */
    void precomputeReference(int batchSize) {
        reference.precompute(batchSize);
    }

    /**
     * Not implemented: {@link TrainConfig#checkCombination(Method, dev.finetune.events.Objective,
     * dev.finetune.llm.settings.SettingValues)} refuses
     * eval_strategy other than no for kto, so the loop never asks: its evaluation (the KTO loss of
     * labelled validation examples with their KL baseline) is not written yet.
     */
    @Override
    public Map<String, Double> evaluate(CausalLm lm) {
        throw new UnsupportedOperationException("evaluation during training is not implemented for objective kto");
    }

    @Override
    public Window window(List<int[]> microBatches) {
        return new ExampleWindow(microBatches);
    }

    @Override
    public List<String> save(Path directory) throws IOException {
        return reference.save(directory);
    }

    @Override
    public void restore(Path directory) throws IOException {
        reference.restore(directory);
    }

    /** A window's micro-batches; adds up the statistics of its examples as they are scored. */
    private final class ExampleWindow implements Window {
        private final List<int[]> microBatches;
        private final int windowExamples;
        private KtoLoss.Statistics statistics = KtoLoss.Statistics.EMPTY;

        ExampleWindow(List<int[]> microBatches) {
            this.microBatches = microBatches;
            this.windowExamples = microBatches.stream().mapToInt(m -> m.length).sum();
        }

        @Override
        public MicroBatch microBatch(int index) {
            int[] indices = microBatches.get(index);
            List<PreferencePair> slice = new ArrayList<>();
            boolean[] labels = new boolean[indices.length];
            for (int i = 0; i < indices.length; i++) {
                slice.add(items.get(indices[i]));
                labels[i] = desirable[indices[i]];
            }
            return new ExampleBatch(PreferenceBatch.of(slice, padId), labels, reference.scores(indices, slice));
        }

        /** TRL's names; a side without examples in the window is left out, as TRL leaves it. */
        @Override
        public Map<String, Double> metrics() {
            Map<String, Double> metrics = new LinkedHashMap<>();
            if (statistics.desirable() > 0) {
                metrics.put("rewards/chosen", statistics.meanDesirableReward());
                metrics.put("logps/chosen", statistics.meanDesirableLogProb());
            }
            if (statistics.undesirable() > 0) {
                metrics.put("rewards/rejected", statistics.meanUndesirableReward());
                metrics.put("logps/rejected", statistics.meanUndesirableLogProb());
            }
            if (statistics.desirable() > 0 && statistics.undesirable() > 0) {
                metrics.put("rewards/margins", statistics.meanDesirableReward() - statistics.meanUndesirableReward());
            }
            metrics.put("kl", statistics.meanKl());
            return metrics;
        }

        private final class ExampleBatch implements MicroBatch {
            private final PreferenceBatch batch;
            private final boolean[] labels;
            private final PreferenceScores reference;

            ExampleBatch(PreferenceBatch batch, boolean[] labels, PreferenceScores reference) {
                this.batch = batch;
                this.labels = labels;
                this.reference = reference;
            }

            /** The KTO loss of the example rows, the KL rows only estimating KL ({@link PreferenceBatch#backward}). */
            @Override
            public double backward(CausalLm lm, NDManager manager, GradientCollector collector) {
                return batch.backward(lm, head, manager, collector, rows -> {
                    float[] policy = rows.toFloatArray();
                    int n = batch.pairs();
                    double kl = KtoLoss.klEstimate(Arrays.copyOfRange(policy, n, 2 * n), reference.rejected());
                    statistics = statistics.add(
                            loss.statistics(Arrays.copyOfRange(policy, 0, n), reference.chosen(), labels, kl));
                    NDArray losses = loss.losses(
                            PreferenceBatch.chosen(rows),
                            manager.create(reference.chosen()),
                            labels,
                            kl,
                            manager); // [B]
                    return losses.sum().div(manager.create((float) windowExamples)); // see Attention.scale
                });
            }

            @Override
            public int tokens() {
                return batch.tokenCount();
            }
        }
    }
}
