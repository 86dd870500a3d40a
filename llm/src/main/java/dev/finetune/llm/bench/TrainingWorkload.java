package dev.finetune.llm.bench;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.llm.checkpoint.ModelConfig;
import dev.finetune.llm.lora.LoraConfig;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.objective.ChunkedLmHead;
import dev.finetune.llm.objective.SftBatch;
import dev.finetune.llm.objective.SftLoss;
import dev.finetune.llm.objective.TrainingSequence;
import dev.finetune.llm.settings.SettingValues;
import dev.finetune.llm.settings.Settings;
import dev.finetune.llm.tiny.TinyModelGenerator;
import dev.finetune.llm.train.Method;
import dev.finetune.llm.train.Optimization;
import dev.finetune.llm.train.TrainableModel;
import dev.finetune.llm.train.TrainingArguments;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * One fine-tuning method measured in a JVM of its own (started by {@link TrainingBenchmark}), so
 * that its peak resident memory is its own: SFT steps (forward, backward, global-norm clipping,
 * AdamW) on random tokens, timed per step; then a long run of short steps with the resident memory
 * sampled along the way. Writes the results as JSON into a file.
 *
 * <p>Arguments: method, batch, length, warm-up steps, measured steps, long-run steps, long-run length,
 * result file.
 */
final class TrainingWorkload {
    /** Long-run steps at which resident memory is sampled (those not beyond the run's length). */
    static final int[] MEMORY_SAMPLES = {100, 250, 500, 750, 1000, 2000, 5000};

    private TrainingWorkload() {}

    /** What a child reports. */
    record Result(
            String method,
            long trainableValues,
            int batch,
            int length,
            double[] stepSeconds,
            long residentBeforeModel,
            long peakResident,
            int longSteps,
            int longLength,
            Map<Integer, Long> residentByStep) {}

    public static void main(String[] args) throws IOException {
        Method method = Method.parse(args[0]);
        int batch = Integer.parseInt(args[1]);
        int length = Integer.parseInt(args[2]);
        int warmup = Integer.parseInt(args[3]);
        int steps = Integer.parseInt(args[4]);
        int longSteps = Integer.parseInt(args[5]);
        int longLength = Integer.parseInt(args[6]);
        Result result = run(method, batch, length, warmup, steps, longSteps, longLength);
        new ObjectMapper().writeValue(Path.of(args[7]).toFile(), result);
    }

    static Result run(Method method, int batch, int length, int warmup, int steps, int longSteps, int longLength)
            throws IOException {
        try (NDManager engine = NDManager.newBaseManager()) {
            engine.zeros(new ai.djl.ndarray.types.Shape(1)).getFloat(0); // engine and allocator up
        }
        long before = ResidentMemory.resident();
        ModelConfig config = InferenceBenchmark.modelConfig();
        CausalLm base = TinyModelGenerator.create(
                config, 1, TinyModelGenerator.Initialization.huggingFace(config), Device.cpu());
        TrainingArguments arguments = TrainingArguments.from(
                SettingValues.none().with(Settings.MAX_STEPS, warmup + steps + longSteps), method);
        try (TrainableModel model = TrainableModel.prepare(base, method, LoraConfig.defaults(), 42);
                Optimization optimization = new Optimization(model, arguments, arguments.maxSteps())) {
            model.setTraining(true);
            SftBatch throughputBatch = randomBatch(batch, length, config.vocabSize(), 5);
            int step = 0;
            for (; step < warmup; step++) {
                step(model, optimization, throughputBatch, step);
            }
            double[] seconds = new double[steps];
            for (int i = 0; i < steps; i++, step++) {
                long start = System.nanoTime();
                step(model, optimization, throughputBatch, step);
                seconds[i] = (System.nanoTime() - start) / 1e9;
            }
            SftBatch shortBatch = randomBatch(1, longLength, config.vocabSize(), 6);
            Map<Integer, Long> residentByStep = new LinkedHashMap<>();
            for (int i = 1; i <= longSteps; i++, step++) {
                step(model, optimization, shortBatch, step);
                for (int sample : MEMORY_SAMPLES) {
                    if (sample == i) {
                        residentByStep.put(i, ResidentMemory.resident());
                    }
                }
            }
            return new Result(
                    method.configName(),
                    model.trainableValues(),
                    batch,
                    length,
                    seconds,
                    before,
                    ResidentMemory.peak(),
                    longSteps,
                    longLength,
                    residentByStep);
        }
    }

    /** One optimizer step of one micro-batch, its arrays scoped as the recipes scope them. */
    @SuppressWarnings("try")
    static void step(TrainableModel model, Optimization optimization, SftBatch batch, int step) {
        CausalLm lm = model.model();
        model.beginStep(42, step);
        try (NDScope ignored = new NDScope()) {
            NDManager manager = lm.manager();
            optimization.accumulate(collector -> SftLoss.backward(
                    lm,
                    batch,
                    batch.targetCount(),
                    ChunkedLmHead.defaults(),
                    manager,
                    collector)); // the loss value is read: a sync point
        }
        optimization.update(step);
    }

    /** Random token rows, every token but the first a target. */
    private static SftBatch randomBatch(int rows, int length, int vocab, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        List<TrainingSequence> sequences = new ArrayList<>();
        for (int b = 0; b < rows; b++) {
            boolean[] targets = new boolean[length];
            java.util.Arrays.fill(targets, 1, length, true);
            sequences.add(TrainingSequence.of(random.longs(length, 0, vocab).toArray(), targets));
        }
        return SftBatch.of(sequences, 0, false);
    }
}
