package dev.finetune.llm.train;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Which items (examples or packed rows) each optimizer step trains on. Each epoch visits the items in
 * a permutation drawn from (seed, epoch); optimizer step s of an epoch takes micro-batches {@code
 * s*A .. s*A + A - 1} of {@code B} items (A = gradient accumulation, B = batch size; the epoch's last
 * micro-batch and step may be short). A pure function of the step, so a resumed run needs only the
 * step to continue the data order exactly.
 *
 * @param items number of items
 * @param batchSize items per micro-batch
 * @param accumulation micro-batches per optimizer step
 * @param totalSteps optimizer steps of the run
 * @param seed seed of the permutations
 */
public record BatchPlan(int items, int batchSize, int accumulation, int totalSteps, long seed) {

    public BatchPlan {
        if (items <= 0) {
            throw new IllegalArgumentException("the training data has no usable examples");
        }
    }

    /** The plan of a run: {@code max_steps} if set, otherwise {@code num_train_epochs} epochs (rounded up). */
    public static BatchPlan of(int items, TrainingArguments arguments) {
        return of(items, arguments.batchSize(), arguments);
    }

    /**
     * As {@link #of(int, TrainingArguments)} with micro-batches of {@code batchSize} items (GRPO's: prompts,
     * per_device_train_batch_size / num_generations of them, since the setting counts completions).
     */
    public static BatchPlan of(int items, int batchSize, TrainingArguments arguments) {
        int microPerEpoch = ceilDiv(items, batchSize);
        int stepsPerEpoch = ceilDiv(microPerEpoch, arguments.gradientAccumulationSteps());
        int total = arguments.maxSteps() > 0
                ? arguments.maxSteps()
                : (int) Math.ceil(arguments.numTrainEpochs() * stepsPerEpoch);
        return new BatchPlan(
                items, batchSize, arguments.gradientAccumulationSteps(), Math.max(1, total), arguments.seed());
    }

    public int microBatchesPerEpoch() {
        return ceilDiv(items, batchSize);
    }

    public int stepsPerEpoch() {
        return ceilDiv(microBatchesPerEpoch(), accumulation);
    }

    /** The epoch (0-based) that optimizer step {@code step} belongs to. */
    public int epochOf(int step) {
        return step / stepsPerEpoch();
    }

    /** Fractional epochs done after {@code stepsDone} steps. */
    public double epochsAfter(int stepsDone) {
        return (double) stepsDone / stepsPerEpoch();
    }

    /** The item indices of each micro-batch of optimizer step {@code step} (0-based). */
    public List<int[]> microBatches(int step) {
        int[] order = permutation(epochOf(step));
        int first = (step % stepsPerEpoch()) * accumulation;
        int last = Math.min(first + accumulation, microBatchesPerEpoch());
        List<int[]> batches = new ArrayList<>();
        for (int micro = first; micro < last; micro++) {
            int from = micro * batchSize;
            int to = Math.min(from + batchSize, items);
            batches.add(java.util.Arrays.copyOfRange(order, from, to));
        }
        return batches;
    }

    /** The visiting order of an epoch: Fisher-Yates from a generator seeded by (seed, epoch). */
    public int[] permutation(int epoch) {
        int[] order = new int[items];
        for (int i = 0; i < items; i++) {
            order[i] = i;
        }
        SplittableRandom random = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + epoch);
        for (int i = items - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int swap = order[i];
            order[i] = order[j];
            order[j] = swap;
        }
        return order;
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }
}
