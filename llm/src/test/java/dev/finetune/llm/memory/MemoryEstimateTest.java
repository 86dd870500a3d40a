package dev.finetune.llm.memory;

import static org.assertj.core.api.Assertions.assertThat;

import dev.finetune.events.Objective;
import dev.finetune.llm.checkpoint.ModelConfig;
import dev.finetune.llm.checkpoint.ModelType;
import dev.finetune.llm.lora.LoraConfig;
import dev.finetune.llm.quant.BaseDType;
import dev.finetune.llm.settings.SettingValues;
import dev.finetune.llm.settings.Settings;
import dev.finetune.llm.testing.ChildJvm;
import dev.finetune.llm.tiny.TinyModels;
import dev.finetune.llm.train.Method;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MemoryEstimateTest {
    /** A llama layout big enough that a step's activations dwarf allocator noise. */
    static final ModelConfig MODEL = TinyModels.config(ModelType.LLAMA).toBuilder()
            .vocabSize(4096)
            .hiddenSize(512)
            .intermediateSize(1536)
            .numHiddenLayers(4)
            .numAttentionHeads(8)
            .numKeyValueHeads(4)
            .headDim(64)
            .build();

    private static final long HEAP = 256L << 20;

    /**
     * The activation and logit terms against a measured LoRA step (q/k/v/o, r 8) in a JVM of its own:
     * one sequence of 512 tokens. Measured on this code: 389 MiB over the resident size before the
     * step; the estimate says 396 MiB.
     */
    @Test
    void theStepEstimateIsWithinAFifthOfAMeasuredStep() throws Exception {
        MemoryEstimate estimate = MemoryEstimate.training(
                MODEL,
                Method.LORA,
                BaseDType.FP32,
                LoraConfig.defaults(),
                new MemoryEstimate.Step(1, 512, false),
                HEAP);

        Map<String, Long> measured = ChildJvm.run(StepPeakProbe.class, "256m", "1", "512");
        long step = measured.get("step");
        long estimated = estimate.activations() + estimate.logits();
        System.out.printf("step peak: measured %d MiB, estimated %d MiB%n", step >> 20, estimated >> 20);

        assertThat((double) estimated).isBetween(0.8 * step, 1.25 * step);
    }

    @Test
    void theEstimateAddsUpItsParts() {
        MemoryEstimate lora = MemoryEstimate.training(
                MODEL,
                Method.LORA,
                BaseDType.FP32,
                LoraConfig.defaults(),
                new MemoryEstimate.Step(2, 256, false),
                HEAP);
        MemoryEstimate nf4 = MemoryEstimate.training(
                MODEL, Method.LORA, BaseDType.NF4, LoraConfig.defaults(), new MemoryEstimate.Step(2, 256, false), HEAP);
        MemoryEstimate full = MemoryEstimate.training(
                MODEL,
                Method.FULL,
                BaseDType.FP32,
                LoraConfig.defaults(),
                new MemoryEstimate.Step(2, 256, false),
                HEAP);
        MemoryEstimate checkpointed = MemoryEstimate.training(
                MODEL, Method.LORA, BaseDType.FP32, LoraConfig.defaults(), new MemoryEstimate.Step(2, 256, true), HEAP);

        ModelSize size = ModelSize.of(MODEL);
        assertThat(lora.weights()).isEqualTo(4 * size.parameters());
        assertThat(nf4.weights()).isEqualTo(size.weightBytes(BaseDType.NF4)).isLessThan(lora.weights() / 2);
        // r 8 on q, k, v, o of 4 layers: 8 x (512 + 512 + 2 x (512 + 256) + 512 + 512) x 4 values, 4 copies each
        assertThat(lora.trainable()).isEqualTo(4L * 4 * 8 * (1024 + 768 + 768 + 1024) * 4);
        assertThat(full.trainable()).isEqualTo(3L * 4 * size.parameters()); // gradients and two moments
        assertThat(checkpointed.activations()).isLessThan(lora.activations() / 2);
        assertThat(lora.runtime()).isEqualTo(HEAP + MemoryEstimate.ENGINE_BYTES);
        assertThat(lora.total())
                .isEqualTo(lora.weights() + lora.trainable() + lora.activations() + lora.logits() + lora.runtime());
        assertThat(lora.describe()).startsWith(WorkerMemory.format(lora.total()) + " (weights 64.");
    }

    /** Unset base_dtype is chosen to fit; a job's explicit choice and full fine-tuning's fp32 are kept. */
    @Test
    void aLoraJobThatDoesNotFitGetsTheMostPreciseBaseThatDoes() {
        JobMemory job = new JobMemory(MODEL, Method.LORA, Objective.SFT, HEAP);
        SettingValues settings = SettingValues.none()
                .with(Settings.PER_DEVICE_TRAIN_BATCH_SIZE, 1)
                .with(Settings.MAX_SEQ_LENGTH, 64);
        long fp32 = job.estimate(settings).total();
        long int8 =
                job.estimate(settings.with(Settings.BASE_DTYPE, BaseDType.INT8)).total();
        long nf4 =
                job.estimate(settings.with(Settings.BASE_DTYPE, BaseDType.NF4)).total();
        assertThat(fp32).isGreaterThan(int8);
        assertThat(int8).isGreaterThan(nf4);

        assertThat(job.fit(settings, fp32)).isEqualTo(settings);
        assertThat(job.fit(settings, fp32 - 1)).isEqualTo(settings.with(Settings.BASE_DTYPE, BaseDType.INT8));
        assertThat(job.fit(settings, int8 - 1)).isEqualTo(settings.with(Settings.BASE_DTYPE, BaseDType.NF4));
        assertThat(job.fit(settings, nf4 - 1)).as("nothing fits: unchanged").isEqualTo(settings);
        SettingValues explicit = settings.with(Settings.BASE_DTYPE, BaseDType.FP32);
        assertThat(job.fit(explicit, fp32 - 1)).isEqualTo(explicit);
        JobMemory full = new JobMemory(MODEL, Method.FULL, Objective.SFT, HEAP);
        assertThat(full.fit(settings, 1)).isEqualTo(settings);
    }

    @Test
    void theAlternativesNameEachSettingThatWouldFitWithItsEstimate() {
        JobMemory job = new JobMemory(MODEL, Method.LORA, Objective.DPO, HEAP);
        SettingValues settings = SettingValues.none().with(Settings.PER_DEVICE_TRAIN_BATCH_SIZE, 8);
        long limit =
                job.estimate(settings.with(Settings.BASE_DTYPE, BaseDType.NF4)).total();

        assertThat(job.alternatives(settings, limit))
                .anySatisfy(change -> assertThat(change).startsWith("base_dtype: nf4 (" + WorkerMemory.format(limit)))
                .anySatisfy(change -> assertThat(change)
                        .matches("per_device_train_batch_size: \\d with gradient_accumulation_steps: \\d+ \\(the same"
                                + " effective batch\\) \\(.*\\)"));
        assertThat(job.alternatives(settings, 1)).isEmpty();
    }
}
