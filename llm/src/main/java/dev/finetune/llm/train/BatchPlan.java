package dev.finetune.llm.train;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Which items (examples, packed rows or prompts) each optimizer step trains on. Each epoch visits the
 * items in a permutation drawn from (seed, epoch); data batch k of an epoch takes micro-batches {@code
 * k*A .. k*A + A - 1} of {@code B} items (A = gradient accumulation, B = batch size; the epoch's last
 * micro-batch and batch may be short). Each data batch is optimised by U optimizer steps: 1 but for
 * PPO, whose rollout batches are optimised num_ppo_epochs times ({@link PpoConfig#plan}), and GRPO,
 * whose completions are optimised num_iterations times.
 * Epochs count passes over the items, as transformers' and TRL's {@code epoch} (the fraction of the
 * dataset consumed), so an epoch is U times as many optimizer steps as data batches. A pure function of
 * the step, so a resumed run needs only the step to continue the data order exactly.
 *
 * @param items number of items
 * @param batchSize items per micro-batch
 * @param accumulation micro-batches per data batch
 * @param totalSteps optimizer steps of the run
 * @param seed seed of the permutations
 * @param updatesPerBatch optimizer steps per data batch (U)
 */
public record BatchPlan(int items, int batchSize, int accumulation, int totalSteps, long seed, int updatesPerBatch) {

    public BatchPlan {
        if (items <= 0) {
            throw new IllegalArgumentException("the training data has no usable examples");
        }
        if (updatesPerBatch <= 0) {
            throw new IllegalArgumentException("updatesPerBatch must be positive, got " + updatesPerBatch);
        }
    }

    /** A plan of one optimizer step per data batch. */
    public BatchPlan(int items, int batchSize, int accumulation, int totalSteps, long seed) {
        this(items, batchSize, accumulation, totalSteps, seed, 1);
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

    /** Data batches in a pass over the items. */
    public int batchesPerEpoch() {
        return ceilDiv(microBatchesPerEpoch(), accumulation);
    }

    /** Optimizer steps in a pass over the items. */
    public int stepsPerEpoch() {
        return batchesPerEpoch() * updatesPerBatch;
    }

    /** The data batch (0-based, counted over the run) that optimizer step {@code step} optimises. */
    public int batchOf(int step) {
        return step / updatesPerBatch;
    }

    /** The epoch (0-based) that optimizer step {@code step} belongs to. */
    public int epochOf(int step) {
        return batchOf(step) / batchesPerEpoch();
    }

    /** Fractional epochs (passes over the items) done after {@code stepsDone} optimizer steps. */
    public double epochsAfter(int stepsDone) {
        return (double) stepsDone / stepsPerEpoch();
    }

    /** The first micro-batch of the epoch that optimizer step {@code step}'s data batch starts at. */
    public int microBatchOf(int step) {
        return (batchOf(step) % batchesPerEpoch()) * accumulation;
    }

    /** The item indices of each micro-batch of optimizer step {@code step} (0-based): its data batch's. */
    public List<int[]> microBatches(int step) {
        return batch(batchOf(step));
    }

    /** The item indices of each micro-batch of data batch {@code batch} (0-based, counted over the run). */
    public List<int[]> batch(int batch) {
        int[] order = permutation(batch / batchesPerEpoch());
        int first = (batch % batchesPerEpoch()) * accumulation;
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
