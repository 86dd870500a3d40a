package dev.finetune.llm.peft;

import static dev.finetune.llm.testing.AdapterFixtures.logits;
import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Device;
import dev.finetune.llm.checkpoint.ModelType;
import dev.finetune.llm.checkpoint.SafetensorsReader;
import dev.finetune.llm.lora.Adapters;
import dev.finetune.llm.lora.LoraConfig;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.quant.BaseStorage;
import dev.finetune.llm.testing.AdapterFixtures;
import dev.finetune.llm.tiny.TinyModelGenerator;
import dev.finetune.llm.tiny.TinyModels;
import dev.finetune.llm.tokenizer.TinyTokenizerWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

class MergedCheckpointTest {
    @TempDir
    Path dir;

    /** llama: untied head; qwen2: biases on q/k/v and a tied head. */
    @ParameterizedTest(name = "{0}")
    @EnumSource(
            value = ModelType.class,
            names = {"LLAMA", "QWEN2"})
    void theMergedCheckpointComputesTheAdaptedModelsLogits(ModelType type) throws IOException {
        Path base = dir.resolve("base");
        TinyModelGenerator.write(TinyModels.config(type), 21, base);
        TinyTokenizerWriter.write(base);
        Path merged = dir.resolve("merged");
        float[] adapted;
        try (CausalLm model = CausalLm.load(base, Device.cpu())) {
            Adapters adapters = Adapters.apply(model, LoraConfig.defaults().withTargetModules("all-linear"), 4);
            AdapterFixtures.trainBriefly(adapters);
            adapted = logits(model);

            MergedCheckpoint.write(model, merged, base);

            assertThat(logits(model)).as("the adapted model is unchanged").containsExactly(adapted);
            float[] baseLogits;
            try (Adapters.Switch off = adapters.disabled()) {
                baseLogits = logits(model);
            }
            assertThat(AdapterFixtures.maxAbsDiff(adapted, baseLogits)).isGreaterThan(1e-2);
        }

        try (CausalLm reloaded = CausalLm.load(merged, Device.cpu());
                SafetensorsReader mergedFile = SafetensorsReader.open(merged.resolve("model.safetensors"));
                SafetensorsReader baseFile = SafetensorsReader.open(base.resolve("model.safetensors"))) {
            // (W + s B A) x and W x + s B (A x) round differently in fp32: measured 5.8e-6 (llama,
            // |logits| <= 6.2) and 3.0e-5 (qwen2, |logits| <= 13.5), about 2e-6 of the largest logit.
            double scale = Math.max(1, AdapterFixtures.maxAbs(adapted));
            assertThat(AdapterFixtures.maxAbsDiff(logits(reloaded), adapted)).isLessThan(1e-5 * scale);
            assertThat(mergedFile.names()).containsExactlyInAnyOrderElementsOf(baseFile.names());
        }
        for (String name : new String[] {"tokenizer.json", "tokenizer_config.json"}) {
            assertThat(merged.resolve(name)).hasSameBinaryContentAs(base.resolve(name));
        }
        assertThat(Files.exists(merged.resolve("config.json"))).isTrue();
    }

    /**
     * DoRA: each merged row is {@code m / ||W + s B A|| * (W + s B A)}; the in-memory merge of the
     * trained model and the streamed merge of its saved adapter both compute the adapted logits.
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(
            value = ModelType.class,
            names = {"LLAMA", "QWEN2"})
    void aDoraModelMergesInMemoryAndStreamedToItsLogits(ModelType type) throws IOException {
        Path base = dir.resolve("base");
        TinyModelGenerator.write(TinyModels.config(type), 23, base);
        Path adapter = dir.resolve("adapter");
        LoraConfig dora =
                LoraConfig.defaults().withAlpha(12.5).withUseDora(true).withTargetModules("all-linear");
        float[] adapted;
        try (CausalLm model = CausalLm.load(base, Device.cpu())) {
            Adapters adapters = Adapters.apply(model, dora, 4);
            AdapterFixtures.trainBriefly(adapters);
            adapted = logits(model);
            float[] baseLogits;
            try (Adapters.Switch off = adapters.disabled()) {
                baseLogits = logits(model);
            }
            assertThat(AdapterFixtures.maxAbsDiff(adapted, baseLogits)).isGreaterThan(1e-2);
            MergedCheckpoint.write(model, dir.resolve("merged"), base);
            PeftAdapter.save(adapters, adapter, base.toString());
        }
        StreamedMerge.write(base, adapter, dir.resolve("streamed"), Long.MAX_VALUE);

        double scale = Math.max(1, AdapterFixtures.maxAbs(adapted));
        for (String merged : new String[] {"merged", "streamed"}) {
            try (CausalLm reloaded = CausalLm.load(dir.resolve(merged), Device.cpu())) {
                double error = AdapterFixtures.maxAbsDiff(logits(reloaded), adapted);
                System.out.printf(
                        "DoRA %s %s merge: max logit error %.2e (largest logit %.1f)%n", type, merged, error, scale);
                assertThat(error).as(merged).isLessThan(1e-5 * scale);
            }
        }
    }

    /** QLoRA: the merged checkpoint holds dequantised base weights plus the adapter deltas, in fp32. */
    @ParameterizedTest(name = "dora {0}")
    @ValueSource(booleans = {false, true})
    void aQloraModelMergesIntoAFp32CheckpointWithItsLogits(boolean dora) throws IOException {
        Path base = dir.resolve("base");
        TinyModelGenerator.write(TinyModels.config(ModelType.QWEN3), 22, base);
        Path merged = dir.resolve("merged");
        Path adapter = dir.resolve("adapter");
        float[] adapted;
        try (CausalLm model = CausalLm.load(base, Device.cpu())) {
            Adapters adapters = Adapters.apply(
                    model, LoraConfig.defaults().withQuantizeBase(true).withUseDora(dora), 4);
            AdapterFixtures.trainBriefly(adapters);
            adapted = logits(model);
            MergedCheckpoint.write(model, merged, base);
            PeftAdapter.save(adapters, adapter, base.toString());
        }

        double scale = Math.max(1, AdapterFixtures.maxAbs(adapted));
        try (CausalLm reloaded = CausalLm.load(merged, Device.cpu())) {
            assertThat(AdapterFixtures.maxAbsDiff(logits(reloaded), adapted)).isLessThan(1e-5 * scale);
        }
        try (CausalLm fresh = CausalLm.load(base, Device.cpu())) {
            PeftAdapter.load(fresh, adapter, BaseStorage.NF4);
            assertThat(logits(fresh)).containsExactly(adapted);
        }
    }
}
