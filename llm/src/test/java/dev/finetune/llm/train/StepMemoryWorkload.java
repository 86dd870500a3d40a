package dev.finetune.llm.train;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import dev.finetune.llm.checkpoint.ModelConfig;
import dev.finetune.llm.checkpoint.ModelType;
import dev.finetune.llm.lora.LoraConfig;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.objective.ChunkedLmHead;
import dev.finetune.llm.objective.SftBatch;
import dev.finetune.llm.objective.SftLoss;
import dev.finetune.llm.objective.TrainingSequence;
import dev.finetune.llm.settings.SettingValues;
import dev.finetune.llm.settings.Settings;
import dev.finetune.llm.tiny.TinyModelGenerator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * One SFT training configuration on a medium model, in a JVM of its own (started by {@link
 * CheckpointingMemoryTest}): a warm-up step, then the peak resident memory of the whole process
 * during the next steps (VmHWM, reset to the resting level just before them through
 * /proc/self/clear_refs, so model creation and quantisation do not count) and their times. Prints one
 * line: {@code method checkpointing restingBytes peakBytes stepSeconds...}.
 *
 * <p>Arguments: method (lora, qlora), gradient checkpointing (true, false).
 */
final class StepMemoryWorkload {
    /** Llama layout, hidden 1024, 8 layers, 16 / 8 heads, vocabulary 32000: about 168M parameters. */
    static final ModelConfig MODEL = ModelConfig.builder(ModelType.LLAMA)
            .vocabSize(32000)
            .hiddenSize(1024)
            .intermediateSize(2816)
            .numHiddenLayers(8)
            .numAttentionHeads(16)
            .numKeyValueHeads(8)
            .maxPositionEmbeddings(2048)
            .bosTokenId(1)
            .eosTokenIds(List.of(2))
            .padTokenId(0)
            .build();

    static final int TOKENS = 256;
    static final int MEASURED_STEPS = 2;

    private StepMemoryWorkload() {}

    @SuppressWarnings("try")
    public static void main(String[] args) throws IOException, InterruptedException {
        Method method = Method.parse(args[0]);
        boolean checkpointing = Boolean.parseBoolean(args[1]);
        try (NDManager engine = NDManager.newBaseManager()) {
            engine.zeros(new Shape(1)).getFloat(0); // engine and allocator up
        }
        CausalLm base =
                TinyModelGenerator.create(MODEL, 1, TinyModelGenerator.Initialization.huggingFace(MODEL), Device.cpu());
        LoraConfig lora = LoraConfig.defaults().withR(16).withAlpha(32).withTargetModules(LoraConfig.ALL_LINEAR);
        TrainingArguments arguments =
                TrainingArguments.from(SettingValues.none().with(Settings.MAX_STEPS, 1 + MEASURED_STEPS), method);
        try (TrainableModel model = TrainableModel.prepare(base, method, lora, 42);
                Optimization optimization = new Optimization(model, arguments, arguments.maxSteps())) {
            model.setGradientCheckpointing(checkpointing);
            model.setTraining(true);
            SftBatch batch = batch();
            step(model, optimization, batch, 0);
            long resting = resetPeak();
            double[] seconds = new double[MEASURED_STEPS];
            for (int i = 0; i < MEASURED_STEPS; i++) {
                long start = System.nanoTime();
                step(model, optimization, batch, i + 1);
                seconds[i] = (System.nanoTime() - start) / 1e9;
            }
            long peak = status("VmHWM:");
            StringBuilder line = new StringBuilder(
                    method.configName() + " " + model.model().gradientCheckpointing() + " " + resting + " " + peak);
            Arrays.stream(seconds).forEach(s -> line.append(' ').append(s));
            System.out.println(line);
        }
    }

    @SuppressWarnings("try")
    private static void step(TrainableModel model, Optimization optimization, SftBatch batch, int step) {
        CausalLm lm = model.model();
        model.beginStep(42, step);
        try (NDScope ignored = new NDScope()) {
            optimization.accumulate(collector -> SftLoss.backward(
                    lm, batch, batch.targetCount(), ChunkedLmHead.defaults(), lm.manager(), collector));
        }
        optimization.update(step);
    }

    /** One row of random tokens, every token but the first a target. */
    private static SftBatch batch() {
        SplittableRandom random = new SplittableRandom(6);
        boolean[] targets = new boolean[TOKENS];
        Arrays.fill(targets, 1, TOKENS, true);
        long[] ids = random.longs(TOKENS, 3, MODEL.vocabSize()).toArray();
        return SftBatch.of(List.of(TrainingSequence.of(ids, targets)), 0, false);
    }

    /**
     * After GCs (so the heap shrinks and the direct buffers behind freed fp32 weights, which DJL
     * creates from Java arrays, are released by their cleaners), resets VmHWM to the current resident
     * size and returns it.
     */
    private static long resetPeak() throws IOException, InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(200);
        }
        Files.writeString(Path.of("/proc/self/clear_refs"), "5"); // Linux >= 4.0: VmHWM := VmRSS
        return status("VmHWM:");
    }

    private static long status(String field) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith(field)) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        throw new IOException("no " + field + " in /proc/self/status");
    }
}
