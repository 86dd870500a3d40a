package dev.finetune.llm.memory;

import ai.djl.Device;
import ai.djl.ndarray.NDScope;
import dev.finetune.llm.bench.ResidentMemory;
import dev.finetune.llm.checkpoint.ModelConfig;
import dev.finetune.llm.lora.LoraConfig;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.objective.ChunkedLmHead;
import dev.finetune.llm.objective.SftBatch;
import dev.finetune.llm.objective.SftLoss;
import dev.finetune.llm.objective.TrainingSequence;
import dev.finetune.llm.quant.BaseDType;
import dev.finetune.llm.settings.SettingValues;
import dev.finetune.llm.settings.Settings;
import dev.finetune.llm.tiny.TinyModelGenerator;
import dev.finetune.llm.train.Method;
import dev.finetune.llm.train.Optimization;
import dev.finetune.llm.train.TrainableModel;
import dev.finetune.llm.train.TrainingArguments;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Child-JVM side of {@link MemoryEstimateTest}: two SFT steps as the recipes run them (the first
 * creates the optimizer state and warms the allocator), then a third whose peak above the resident
 * size before it is what the step's activations and logits cost.
 */
public final class StepPeakProbe {
    private StepPeakProbe() {}

    /**
     * Arguments: batch, length, and optionally method (lora), gradient checkpointing (false), base
     * dtype (fp32), hidden size (512). The model is otherwise {@link MemoryEstimateTest#MODEL}.
     */
    @SuppressWarnings("try")
    public static void main(String[] args) throws Exception {
        int batch = Integer.parseInt(args[0]);
        int length = Integer.parseInt(args[1]);
        Method method = args.length > 2 ? Method.parse(args[2]) : Method.LORA;
        boolean checkpointing = args.length > 3 && Boolean.parseBoolean(args[3]);
        BaseDType base = args.length > 4 ? BaseDType.parse(args[4]) : BaseDType.FP32;
        ModelConfig config = args.length > 5
                ? MemoryEstimateTest.MODEL.toBuilder()
                        .hiddenSize(Integer.parseInt(args[5]))
                        .numAttentionHeads(Integer.parseInt(args[5]) / 64)
                        .numKeyValueHeads(Integer.parseInt(args[5]) / 128)
                        .build()
                : MemoryEstimateTest.MODEL;
        CausalLm weights = TinyModelGenerator.create(
                config, 1, TinyModelGenerator.Initialization.huggingFace(config), Device.cpu());
        TrainingArguments arguments =
                TrainingArguments.from(SettingValues.none().with(Settings.MAX_STEPS, 10), method);
        try (TrainableModel model = TrainableModel.prepare(
                        weights, method, LoraConfig.defaults().withBaseDtype(base), 42);
                Optimization optimization = new Optimization(model, arguments, 10)) {
            model.setGradientCheckpointing(checkpointing);
            model.setTraining(true);
            SplittableRandom random = new SplittableRandom(3);
            List<TrainingSequence> sequences = new ArrayList<>();
            for (int b = 0; b < batch; b++) {
                boolean[] targets = new boolean[length];
                Arrays.fill(targets, 1, length, true);
                sequences.add(TrainingSequence.of(
                        random.longs(length, 0, config.vocabSize()).toArray(), targets));
            }
            SftBatch sft = SftBatch.of(sequences, 0, false);
            long before = 0;
            for (int step = 0; step < 3; step++) {
                if (step == 2) {
                    ResidentMemory.resetPeak();
                    before = ResidentMemory.resident();
                }
                model.beginStep(42, step);
                try (NDScope ignored = new NDScope()) {
                    CausalLm lm = model.model();
                    optimization.accumulate(collector -> SftLoss.backward(
                            lm, sft, sft.targetCount(), ChunkedLmHead.defaults(), lm.manager(), collector));
                }
                optimization.update(step);
            }
            System.out.println("step=" + (ResidentMemory.peak() - before));
        }
    }
}
