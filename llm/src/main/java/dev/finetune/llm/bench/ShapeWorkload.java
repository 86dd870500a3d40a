package dev.finetune.llm.bench;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.llm.lora.LoraConfig;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.objective.SftBatch;
import dev.finetune.llm.objective.TrainingSequence;
import dev.finetune.llm.settings.SettingValues;
import dev.finetune.llm.settings.Settings;
import dev.finetune.llm.train.Method;
import dev.finetune.llm.train.Optimization;
import dev.finetune.llm.train.TrainableModel;
import dev.finetune.llm.train.TrainingArguments;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * One {@link ShapeConfiguration} on a checkpoint written by {@link TrainingBenchmark} {@code --shape},
 * in a JVM of its own so that every figure is this configuration's alone: the model is loaded through
 * the trainer's path ({@code CausalLm.load} into the configuration's storage, tensor by tensor), LoRA r
 * 16 (alpha 32) is attached to every linear layer, and SFT steps (forward, backward, clipping, AdamW)
 * run on one row of random tokens, all of them targets, with the LM-head loss in chunks as the recipes
 * compute it.
 *
 * <p>Memory is the whole process's resident size from /proc/self/status: the peak while loading, the
 * resident size at rest after the warm-up steps (optimizer state created), the peak over the measured
 * steps (VmHWM reset to the resting size just before them) and the peak over the process's whole life.
 *
 * <p>Arguments: checkpoint directory, configuration, tokens, warm-up steps, measured steps, result file.
 */
final class ShapeWorkload {
    static final int LORA_R = 16;
    static final int LORA_ALPHA = 32;

    private ShapeWorkload() {}

    /** What a child reports; byte counts are whole-process resident sizes. */
    record Result(
            String configuration,
            int tokens,
            long trainableValues,
            double[] stepSeconds,
            long residentBeforeLoad,
            long loadPeakBytes,
            long loadedBytes,
            long restingBytes,
            long stepPeakBytes,
            long processPeakBytes) {}

    public static void main(String[] args) throws IOException {
        Result result = run(
                Path.of(args[0]),
                ShapeConfiguration.parse(args[1]),
                Integer.parseInt(args[2]),
                Integer.parseInt(args[3]),
                Integer.parseInt(args[4]));
        new ObjectMapper().writeValue(Path.of(args[5]).toFile(), result);
    }

    @SuppressWarnings("try")
    static Result run(Path checkpoint, ShapeConfiguration configuration, int tokens, int warmup, int steps)
            throws IOException {
        try (NDManager engine = NDManager.newBaseManager()) {
            engine.zeros(new Shape(1)).getFloat(0); // engine and allocator up
        }
        long beforeLoad = ResidentMemory.resident();
        ResidentMemory.resetPeak();
        LoraConfig lora = LoraConfig.defaults()
                .withR(LORA_R)
                .withAlpha(LORA_ALPHA)
                .withTargetModules(LoraConfig.ALL_LINEAR)
                .withBaseDtype(configuration.base());
        CausalLm base = CausalLm.load(checkpoint, Device.cpu(), lora.baseStorage());
        long loadPeak = ResidentMemory.peak();
        long loaded = ResidentMemory.resident();
        int vocabulary = base.config().vocabSize();
        int total = warmup + steps;
        TrainingArguments arguments =
                TrainingArguments.from(SettingValues.none().with(Settings.MAX_STEPS, total), Method.LORA);
        try (TrainableModel model = TrainableModel.prepare(base, Method.LORA, lora, 42);
                Optimization optimization = new Optimization(model, arguments, total)) {
            model.setGradientCheckpointing(configuration.checkpointing());
            model.setTraining(true);
            SftBatch batch = randomRow(tokens, vocabulary);
            int step = 0;
            for (; step < warmup; step++) {
                TrainingWorkload.step(model, optimization, batch, step);
            }
            long lifePeakSoFar = ResidentMemory.peak();
            long resting = ResidentMemory.resident();
            ResidentMemory.resetPeak();
            double[] seconds = new double[steps];
            for (int i = 0; i < steps; i++, step++) {
                long start = System.nanoTime();
                TrainingWorkload.step(model, optimization, batch, step);
                seconds[i] = (System.nanoTime() - start) / 1e9;
            }
            long stepPeak = ResidentMemory.peak();
            return new Result(
                    configuration.cliName(),
                    tokens,
                    model.trainableValues(),
                    seconds,
                    beforeLoad,
                    loadPeak,
                    loaded,
                    resting,
                    stepPeak,
                    Math.max(Math.max(loadPeak, lifePeakSoFar), stepPeak));
        }
    }

    /** One row of random tokens, every token but the first a target. */
    private static SftBatch randomRow(int tokens, int vocabulary) {
        SplittableRandom random = new SplittableRandom(6);
        boolean[] targets = new boolean[tokens];
        Arrays.fill(targets, 1, tokens, true);
        long[] ids = random.longs(tokens, 0, vocabulary).toArray();
        return SftBatch.of(List.of(TrainingSequence.of(ids, targets)), 0, false);
    }
}
