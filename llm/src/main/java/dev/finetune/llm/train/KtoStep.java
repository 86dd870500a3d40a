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
 * ReferenceModel} (adapters off, or scores precomputed before step 1 and kept in each checkpoint: always
 * for full fine-tuning, with adapters when precompute_ref_log_probs is set).
 *
 * <p>Each item is laid out as a {@link PreferencePair} whose first completion is the example's own and
 * whose second is its KL completion: the completion of the example before it in its group of
 * per_device_train_batch_size examples, in file order (the first takes the last's), which is how
 * TRL's {@code _get_kl_dataset} pairs them before shuffling (see {@link
 * dev.finetune.llm.objective.LabelledCompletion#withKlCompletions}). A micro-batch
 * scores both in one forward pass; its KL estimate is the mean policy-minus-reference log-probability
 * of its KL rows, clamped at 0 and detached, so the KL rows get no gradient. TRL gathers the estimate
 * over the devices of one step; here it is the micro-batch's. Log-probabilities are completion sums,
 * as TRL's. Reports TRL's metrics, desirable examples as "chosen", undesirable ones as "rejected", and
 * evaluates the validation examples with the same loss ({@link #evaluate}).
 */
final class KtoStep implements ObjectiveStep {
    private final List<PreferencePair> items;
    private final boolean[] desirable;
    private final long padId;
    private final KtoLoss loss;
    private final ChunkedLmHead head;
    private final ReferenceModel reference;
    private final List<PreferencePair> validation;
    private final boolean[] validationDesirable;
    private final int evalBatchSize;

    /**
     * @param items each example's prompt, completion and KL completion
     * @param desirable each example's label
     * @param validation the validation examples laid out as the items, evaluated with the same loss
     * @param validationDesirable each validation example's label
     * @param evalBatchSize validation examples per forward pass and per KL estimate
     */
    KtoStep(
            TrainableModel model,
            List<PreferencePair> items,
            boolean[] desirable,
            long padId,
            KtoLoss loss,
            List<PreferencePair> validation,
            boolean[] validationDesirable,
            int evalBatchSize) {
        this(
                model,
                items,
                desirable,
                padId,
                loss,
                ChunkedLmHead.defaults(),
                validation,
                validationDesirable,
                evalBatchSize);
    }

    /** As above, with the LM head's chunk of rows chosen (tests compare chunk sizes); no validation examples. */
    KtoStep(
            TrainableModel model,
            List<PreferencePair> items,
            boolean[] desirable,
            long padId,
            KtoLoss loss,
            ChunkedLmHead head) {
        this(model, items, desirable, padId, loss, head, List.of(), new boolean[0], 1);
    }

    /** With both the LM head's chunk of rows and validation examples (each with its KL completion). */
    KtoStep(
            TrainableModel model,
            List<PreferencePair> items,
            boolean[] desirable,
            long padId,
            KtoLoss loss,
            ChunkedLmHead head,
            List<PreferencePair> validation,
            boolean[] validationDesirable,
            int evalBatchSize) {
        if (desirable.length != items.size()) {
            throw new IllegalArgumentException(
                    "need a label for each of " + items.size() + " examples, got " + desirable.length);
        }
        if (validationDesirable.length != validation.size()) {
            throw new IllegalArgumentException("need a label for each of " + validation.size()
                    + " validation examples, got " + validationDesirable.length);
        }
        this.items = items;
        this.desirable = desirable;
        this.padId = padId;
        this.loss = loss;
        this.head = head;
        this.validation = validation;
        this.validationDesirable = validationDesirable;
        this.evalBatchSize = evalBatchSize;
        this.reference = new ReferenceModel(model, items, padId, validation, evalBatchSize);
    }

    /**
     * The reference scores of every item (its completion and its KL completion), training and validation,
     * scored once before step 1: always with full fine-tuning, with adapters when {@code
     * precomputeWithAdapters} (precompute_ref_log_probs). See {@link ReferenceModel#precompute}.
     */
    void precomputeReference(int batchSize, boolean precomputeWithAdapters) {
        reference.precompute(batchSize, precomputeWithAdapters);
    }

    /** The reference this step scores against (tests count its forward passes). */
    ReferenceModel reference() {
        return reference;
    }

    /**
     * The KTO loss of the validation examples ({@code eval_loss}, the mean weighted loss per example)
     * against the same {@link ReferenceModel}, and TRL's metrics with the {@code eval_} prefix. As in
     * training, each batch of eval batch size (the groups the KL completions were drawn from) estimates
     * its own KL baseline from its KL rows, clamped at 0. No gradients.
     */
    @Override
    public Map<String, Double> evaluate(CausalLm lm) {
        PreferenceScores policy = reference.policyValidationScores(lm);
        PreferenceScores referenceScores = reference.validationScores(lm);
        KtoLoss.Statistics statistics = KtoLoss.Statistics.EMPTY;
        for (int start = 0; start < validation.size(); start += evalBatchSize) {
            int end = Math.min(validation.size(), start + evalBatchSize);
            double kl = KtoLoss.klEstimate(
                    Arrays.copyOfRange(policy.rejected(), start, end),
                    Arrays.copyOfRange(referenceScores.rejected(), start, end));
            statistics = statistics.add(loss.statistics(
                    Arrays.copyOfRange(policy.chosen(), start, end),
                    Arrays.copyOfRange(referenceScores.chosen(), start, end),
                    Arrays.copyOfRange(validationDesirable, start, end),
                    kl));
        }
        Map<String, Double> metrics = new LinkedHashMap<>();
        metrics.put("eval_loss", statistics.meanLoss());
        metrics(statistics).forEach((name, value) -> metrics.put("eval_" + name, value));
        return metrics;
    }

    /** TRL's names; a side without examples is left out, as TRL leaves it. */
    private static Map<String, Double> metrics(KtoLoss.Statistics statistics) {
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

        @Override
        public Map<String, Double> metrics() {
            return KtoStep.metrics(statistics);
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
