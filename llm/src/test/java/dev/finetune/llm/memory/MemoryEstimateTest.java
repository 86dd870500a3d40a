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
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

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
     * The activation and logit terms against measured LoRA steps (q/k/v/o, r 8) in JVMs of their own:
     * one sequence of 512 tokens, and one of 1,024 with activation checkpointing. Measured on this
     * code: 187 and 274 MiB over the resident size before the step; the estimates say 215 and 304 MiB.
     * (Before LoRA dropout reused one mask buffer: 203 and 334 MiB; before each layer's intermediate
     * arrays were freed when it was done: 378 and 394 MiB.)
     */
    @ParameterizedTest(name = "{0} tokens, checkpointing {1}")
    @CsvSource({"512, false", "1024, true"})
    void theStepEstimateIsWithinAFifthOfAMeasuredStep(int tokens, boolean checkpointing) throws Exception {
        MemoryEstimate estimate = MemoryEstimate.training(
                MODEL,
                Method.LORA,
                BaseDType.FP32,
                LoraConfig.defaults(),
                new MemoryEstimate.Step(1, tokens, checkpointing),
                HEAP);

        Map<String, Long> measured = ChildJvm.run(
                StepPeakProbe.class, "256m", "1", Integer.toString(tokens), "lora", Boolean.toString(checkpointing));
        long step = measured.get("step");
        long estimated = estimate.activations() + estimate.logits();
        System.out.printf(
                "step peak at %d tokens, checkpointing %s: measured %d MiB, estimated %d MiB%n",
                tokens, checkpointing, step >> 20, estimated >> 20);

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
        assertThat(checkpointed.activations()).isLessThan(lora.activations()); // 4 layers: one recomputed costs 2.5
        ModelConfig deep = MODEL.toBuilder().numHiddenLayers(28).build();
        assertThat(MemoryEstimate.training(
                                deep,
                                Method.LORA,
                                BaseDType.FP32,
                                LoraConfig.defaults(),
                                new MemoryEstimate.Step(2, 256, true),
                                HEAP)
                        .activations())
                .isLessThan(MemoryEstimate.training(
                                        deep,
                                        Method.LORA,
                                        BaseDType.FP32,
                                        LoraConfig.defaults(),
                                        new MemoryEstimate.Step(2, 256, false),
                                        HEAP)
                                .activations()
                        / 5);
        assertThat(lora.runtime()).isEqualTo(HEAP + MemoryEstimate.ENGINE_BYTES);
        // A tied int8 head (quantised base) never holds a chunk's [rows, V] logits, only a vocabulary block.
        ModelConfig tied =
                MODEL.toBuilder().vocabSize(151_936).tieWordEmbeddings(true).build();
        MemoryEstimate tiedNf4 = MemoryEstimate.training(
                tied, Method.LORA, BaseDType.NF4, LoraConfig.defaults(), new MemoryEstimate.Step(1, 512, true), HEAP);
        MemoryEstimate tiedFp32 = MemoryEstimate.training(
                tied, Method.LORA, BaseDType.FP32, LoraConfig.defaults(), new MemoryEstimate.Step(1, 512, true), HEAP);
        long blockRows = (16L << 20) / (4 * 512); // 8,192 rows of 512 channels
        // its chunks are sized by the block (64 MiB / 8,192 columns = 2,048 rows), so all 512 tokens are one
        // chunk: [512, 8,192] logits and the online softmax's [512, 512] state and gradient
        assertThat(tiedNf4.logits())
                .isEqualTo((long) (4 * (1.25 * blockRows * 512 + 4.25 * 512 * blockRows + 3.0 * 512 * 512)));
        assertThat(tiedFp32.logits()).isEqualTo((long) (4 * 4.25 * 110 * 151_936));
        assertThat(tiedNf4.weights() - ModelSize.of(tied).weightBytes(BaseDType.NF4))
                .isZero();
        assertThat(lora.total())
                .isEqualTo(lora.weights() + lora.trainable() + lora.activations() + lora.logits() + lora.runtime());
        assertThat(lora.describe()).startsWith(WorkerMemory.format(lora.total()) + " (weights 64.");
    }

    /**
     * Unset choices are made to fit, least lossy first (checkpointing, then an int8, then an nf4 base);
     * a job's explicit choice and full fine-tuning's fp32 are kept.
     */
    @Test
    void aLoraJobThatDoesNotFitGetsTheLeastLossyChoiceThatDoes() {
        JobMemory job = new JobMemory(MODEL, Method.LORA, Objective.SFT, HEAP);
        SettingValues settings = SettingValues.none()
                .with(Settings.PER_DEVICE_TRAIN_BATCH_SIZE, 1)
                .with(Settings.MAX_SEQ_LENGTH, 256);
        SettingValues checkpointed = settings.with(Settings.GRADIENT_CHECKPOINTING, true);
        SettingValues int8 = settings.with(Settings.BASE_DTYPE, BaseDType.INT8);
        SettingValues nf4 = settings.with(Settings.BASE_DTYPE, BaseDType.NF4);
        long[] totals = {
            job.estimate(settings).total(),
            job.estimate(checkpointed).total(),
            job.estimate(int8).total(),
            job.estimate(nf4).total()
        };
        assertThat(totals)
                .isSortedAccordingTo(java.util.Comparator.reverseOrder())
                .doesNotHaveDuplicates();

        assertThat(job.fit(settings, totals[0])).isEqualTo(settings);
        assertThat(job.fit(settings, totals[0] - 1)).isEqualTo(checkpointed);
        assertThat(job.fit(settings, totals[1] - 1)).isEqualTo(int8);
        assertThat(job.fit(settings, totals[2] - 1)).isEqualTo(nf4);
        assertThat(job.fit(settings, totals[3] - 1))
                .as("nothing fits: unchanged")
                .isEqualTo(settings);
        SettingValues explicit =
                settings.with(Settings.BASE_DTYPE, BaseDType.FP32).with(Settings.GRADIENT_CHECKPOINTING, false);
        assertThat(job.fit(explicit, totals[0] - 1)).isEqualTo(explicit);
        JobMemory full = new JobMemory(MODEL, Method.FULL, Objective.SFT, HEAP);
        assertThat(full.fit(settings, 1)).isEqualTo(settings);
    }

    /**
     * A GRPO job whose rewards load two reward models (a sequence classifier of the base's shape, say)
     * needs their weights beside the policy's: fp32, with the score row [1, C] instead of the untied LM
     * head [V, C]. Counted by hand from the config; on a worker the policy alone fits, it does not.
     */
    @Test
    void aPolicyJobCountsTheWeightsOfTheRewardModelsItLoads() {
        ModelConfig untied = MODEL.toBuilder().tieWordEmbeddings(false).build();
        SettingValues settings = SettingValues.none()
                .with(Settings.PER_DEVICE_TRAIN_BATCH_SIZE, 1)
                .with(Settings.MAX_SEQ_LENGTH, 256);
        JobMemory alone = new JobMemory(untied, Method.LORA, Objective.GRPO, HEAP);
        JobMemory judged = new JobMemory(untied, Method.LORA, Objective.GRPO, HEAP, List.of(untied, untied));

        // C 512, F 1536, 8 heads and 4 KV heads of 64, 4 layers, V 4096: q, k, v, o, gate, up, down and two
        // norms a layer, the embedding, the final norm and the score row.
        long layer = 512 * 512 + 2 * 512 * 256 + 512 * 512 + 3 * 512 * 1536 + 2 * 512;
        long oneRewardModel = Float.BYTES * (4 * layer + 4096 * 512 + 512 + 512);
        assertThat(oneRewardModel).isEqualTo(58_740_736L);
        assertThat(JobMemory.rewardModelBytes(untied)).isEqualTo(oneRewardModel);
        MemoryEstimate with = judged.estimate(settings);
        MemoryEstimate without = alone.estimate(settings);
        assertThat(with.rewardModels()).isEqualTo(2 * oneRewardModel);
        assertThat(with.total() - without.total()).isEqualTo(2 * oneRewardModel);
        assertThat(with.describe()).endsWith(", reward models 112.0 MiB)");
        assertThat(without.describe()).doesNotContain("reward models");

        long limit = without.total(); // a worker the policy alone fits
        assertThat(alone.fit(settings, limit)).isEqualTo(settings);
        assertThat(judged.estimate(judged.fit(settings, limit)).total())
                .as("with its reward models no open choice brings it under the limit: validation refuses it")
                .isGreaterThan(limit);
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
