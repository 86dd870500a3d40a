package dev.finetune.llm.peft;

import static dev.finetune.llm.testing.AdapterFixtures.logits;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.finetune.llm.checkpoint.CheckpointException;
import dev.finetune.llm.checkpoint.DType;
import dev.finetune.llm.checkpoint.FloatFormats;
import dev.finetune.llm.checkpoint.ModelType;
import dev.finetune.llm.checkpoint.SafetensorsReader;
import dev.finetune.llm.checkpoint.SafetensorsWriter;
import dev.finetune.llm.lora.Adapters;
import dev.finetune.llm.lora.LoraConfig;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.model.Parameter;
import dev.finetune.llm.testing.AdapterFixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PeftAdapterTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    /** A qwen3 tiny model with trained (non-zero) adapters; the caller closes the model. */
    private static Adapters trained(LoraConfig config) {
        CausalLm model = AdapterFixtures.tinyModel(ModelType.QWEN3);
        Adapters adapters = Adapters.apply(model, config, 11);
        AdapterFixtures.trainBriefly(adapters);
        return adapters;
    }

    @Test
    void adapterConfigHasPeftsKeysSortedAsPythonWritesThem() throws IOException {
        Adapters adapters = trained(LoraConfig.defaults());
        try (CausalLm ignored = adapters.model()) {
            PeftAdapter.save(adapters, dir, "models/base/tiny-qwen3");
        }

        assertThat(Files.readString(dir.resolve("adapter_config.json")))
                .isEqualTo(
                        """
                        {
                          "alpha_pattern": {},
                          "base_model_name_or_path": "models/base/tiny-qwen3",
                          "bias": "none",
                          "fan_in_fan_out": false,
                          "inference_mode": true,
                          "init_lora_weights": true,
                          "layers_to_transform": null,
                          "lora_alpha": 16,
                          "lora_dropout": 0.05,
                          "modules_to_save": null,
                          "peft_type": "LORA",
                          "r": 8,
                          "rank_pattern": {},
                          "target_modules": [
                            "k_proj",
                            "o_proj",
                            "q_proj",
                            "v_proj"
                          ],
                          "task_type": "CAUSAL_LM",
                          "use_dora": false,
                          "use_rslora": false
                        }""");
    }

    @Test
    void weightsAreFp32UnderPeftTensorNames() throws IOException {
        Adapters adapters = trained(LoraConfig.defaults().withTargetModules("all-linear"));
        try (CausalLm ignored = adapters.model()) {
            PeftAdapter.save(adapters, dir, null);
        }

        try (SafetensorsReader reader = SafetensorsReader.open(dir.resolve("adapter_model.safetensors"))) {
            assertThat(reader.names())
                    .hasSize(2 * 7 * 2)
                    .containsAll(adapters.trainableParameters().keySet());
            assertThat(reader.info("base_model.model.model.layers.1.mlp.down_proj.lora_A.weight")
                            .shape())
                    .containsExactly(8, 160);
            assertThat(reader.info("base_model.model.model.layers.1.mlp.down_proj.lora_B.weight")
                            .shape())
                    .containsExactly(64, 8);
            assertThat(reader.info("base_model.model.model.layers.0.mlp.up_proj.lora_B.weight")
                            .dtype())
                    .isEqualTo(DType.F32);
            assertThat(reader.metadata()).containsEntry("format", "pt");
        }
        // "all-linear" is recorded as the names it selected, as PEFT does.
        assertThat(JSON.readTree(dir.resolve("adapter_config.json").toFile())
                        .get("target_modules")
                        .toString())
                .isEqualTo("[\"down_proj\",\"gate_proj\",\"k_proj\",\"o_proj\",\"q_proj\",\"up_proj\",\"v_proj\"]");
    }

    @Test
    void anExportedAdapterLoadsIntoAFreshModelWithIdenticalLogits() throws IOException {
        LoraConfig config = LoraConfig.defaults()
                .withR(4)
                .withAlpha(8)
                .withUseRslora(true)
                .withTargetModules("q_proj", "down_proj");
        Adapters adapters = trained(config);
        float[] expected;
        try (CausalLm model = adapters.model()) {
            expected = logits(model);
            PeftAdapter.save(adapters, dir, "tiny");
        }

        try (CausalLm fresh = AdapterFixtures.tinyModel(ModelType.QWEN3)) {
            float[] base = logits(fresh);
            Adapters loaded = PeftAdapter.load(fresh, dir);

            assertThat(loaded.config()).isEqualTo(config.withTargetModules("down_proj", "q_proj"));
            assertThat(loaded.isTraining()).isFalse();
            assertThat(logits(fresh)).containsExactly(expected);
            assertThat(AdapterFixtures.maxAbsDiff(expected, base)).isGreaterThan(1e-3);
        }
    }

    /** PEFT writes lora_alpha as Python has it: 16 for a whole value, 12.5 for a fractional one. */
    @Test
    void aFractionalAlphaIsWrittenAndReadBackAsItIs() throws IOException {
        LoraConfig config = LoraConfig.defaults().withR(4).withAlpha(12.5);
        Adapters adapters = trained(config);
        try (CausalLm ignored = adapters.model()) {
            PeftAdapter.save(adapters, dir, null);
        }

        assertThat(Files.readString(dir.resolve("adapter_config.json"))).contains("\"lora_alpha\": 12.5,");
        AdapterConfigJson.AdapterConfig read = AdapterConfigJson.read(dir.resolve("adapter_config.json"));
        assertThat(read.lora().alpha()).isEqualTo(12.5);
        assertThat(read.lora().scaling()).isEqualTo(3.125);
    }

    @Test
    void aBf16AdapterHoldsTheWeightsRoundedToBf16() throws IOException {
        Adapters adapters = trained(LoraConfig.defaults());
        String name = "base_model.model.model.layers.1.self_attn.v_proj.lora_A.weight";
        float[] original;
        try (CausalLm model = adapters.model()) {
            original = adapters.trainableParameters().get(name).array().toFloatArray();
            PeftAdapter.save(adapters, dir, null, DType.BF16);
        }

        try (CausalLm fresh = AdapterFixtures.tinyModel(ModelType.QWEN3)) {
            Adapters loaded = PeftAdapter.load(fresh, dir);
            float[] values = loaded.trainableParameters().get(name).array().toFloatArray();

            for (int i = 0; i < values.length; i++) {
                assertThat(values[i]).isEqualTo(FloatFormats.bf16ToFloat(FloatFormats.floatToBf16(original[i])));
            }
        }
    }

    @Test
    void loadWeightsRestoresValuesInPlaceForResumedTraining() throws IOException {
        Adapters saved = trained(LoraConfig.defaults());
        float[] expected;
        try (CausalLm model = saved.model()) {
            expected = logits(model);
            PeftAdapter.save(saved, dir, null);
        }

        try (CausalLm fresh = AdapterFixtures.tinyModel(ModelType.QWEN3)) {
            Adapters resumed = Adapters.apply(fresh, LoraConfig.defaults(), 99);
            Map<String, Parameter> parameters = resumed.trainableParameters();
            List<Object> arraysBefore = new ArrayList<>();
            parameters.values().forEach(p -> arraysBefore.add(p.array()));

            PeftAdapter.loadWeights(resumed, dir);

            assertThat(logits(fresh)).containsExactly(expected);
            List<Object> arraysAfter = new ArrayList<>();
            parameters.values().forEach(p -> arraysAfter.add(p.array()));
            assertThat(arraysAfter).containsExactlyElementsOf(arraysBefore);
            assertThat(AdapterFixtures.sgdStep(resumed, 0.5f)).isFinite(); // still trainable
        }
    }

    // ---- bad adapters: the error names the file and the key or tensor; the model is untouched ----

    private Path savedAdapter() throws IOException {
        Adapters adapters = trained(LoraConfig.defaults());
        try (CausalLm ignored = adapters.model()) {
            PeftAdapter.save(adapters, dir, null);
        }
        return dir;
    }

    private void editConfig(Consumer<ObjectNode> edit) throws IOException {
        Path file = dir.resolve("adapter_config.json");
        ObjectNode json = (ObjectNode) JSON.readTree(file.toFile());
        edit.accept(json);
        JSON.writeValue(file.toFile(), json);
    }

    private void rewriteWeights(Consumer<List<SafetensorsWriter.Entry>> edit) throws IOException {
        Path file = dir.resolve("adapter_model.safetensors");
        List<SafetensorsWriter.Entry> entries = new ArrayList<>();
        try (SafetensorsReader reader = SafetensorsReader.open(file)) {
            for (String name : reader.names()) {
                entries.add(
                        SafetensorsWriter.floats(name, reader.info(name).shape(), reader.readFloats(name), DType.F32));
            }
        }
        edit.accept(entries);
        SafetensorsWriter.write(file, entries, Map.of());
    }

    private void assertLoadFails(String... fragments) {
        try (CausalLm fresh = AdapterFixtures.tinyModel(ModelType.QWEN3)) {
            assertThatThrownBy(() -> PeftAdapter.load(fresh, dir))
                    .isInstanceOf(CheckpointException.class)
                    .hasMessageContainingAll(fragments);
            assertThat(fresh.namedParameters().keySet()).noneMatch(name -> name.contains("lora_"));
        }
    }

    /**
     * A reward model's adapter is PEFT's SEQ_CLS layout: the score head saved whole under the name
     * get_peft_model_state_dict gives it; it is refused onto a language model, and a language model's
     * adapter onto a reward model, each naming task_type; modules_to_save other than the head is refused.
     */
    @Test
    void aRewardModelsAdapterHoldsItsScoreHeadAndLoadsOnlyOntoARewardModel() throws IOException {
        CausalLm rewardModel = AdapterFixtures.tinyModel(ModelType.QWEN3);
        rewardModel.attachScoreHead(0, 5);
        Adapters adapters = Adapters.apply(rewardModel, LoraConfig.defaults(), 11);
        float[] head;
        try (CausalLm ignored = adapters.model()) {
            assertThat(adapters.trainableParameters()).containsKey("base_model.model.score.weight");
            head = adapters.modulesToSave()
                    .get("base_model.model.score.weight")
                    .array()
                    .toFloatArray();
            PeftAdapter.save(adapters, dir, "models/base/tiny-qwen3");
        }
        var config = JSON.readTree(dir.resolve("adapter_config.json").toFile());
        assertThat(config.get("task_type").asText()).isEqualTo("SEQ_CLS");
        assertThat(config.get("modules_to_save").toString()).isEqualTo("[\"score\"]");
        try (SafetensorsReader reader = SafetensorsReader.open(dir.resolve("adapter_model.safetensors"))) {
            assertThat(reader.readFloats("base_model.model.score.weight")).containsExactly(head);
        }
        try (CausalLm other = AdapterFixtures.tinyModel(ModelType.QWEN3)) {
            other.attachScoreHead(0, 99);
            PeftAdapter.load(other, dir);
            assertThat(other.namedParameters().get("score.weight").array().toFloatArray())
                    .containsExactly(head);
        }
        assertLoadFails("adapter_config.json", "'task_type'", "is SEQ_CLS");

        editConfig(json -> json.putArray("modules_to_save").add("lm_head"));
        assertLoadFails("adapter_config.json", "'modules_to_save'", "must be [\"score\"] for task_type SEQ_CLS");

        savedAdapter();
        try (CausalLm reward = AdapterFixtures.tinyModel(ModelType.QWEN3)) {
            reward.attachScoreHead(0, 1);
            assertThatThrownBy(() -> PeftAdapter.load(reward, dir))
                    .isInstanceOf(CheckpointException.class)
                    .hasMessageContainingAll("'task_type'", "a reward model needs a SEQ_CLS adapter");
        }
    }

    @Test
    void aMissingTensorIsNamedWithItsFile() throws IOException {
        savedAdapter();
        String missing = "base_model.model.model.layers.1.self_attn.o_proj.lora_B.weight";
        rewriteWeights(entries -> entries.removeIf(e -> e.name().equals(missing)));

        assertLoadFails(dir.resolve("adapter_model.safetensors").toString(), "'" + missing + "'", "missing");
    }

    @Test
    void aTensorOfTheWrongShapeIsNamedWithBothShapes() throws IOException {
        savedAdapter();
        editConfig(json -> json.put("r", 4));

        assertLoadFails(
                "adapter_model.safetensors",
                "'base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight'",
                "shape [8, 64] does not match the model's [4, 64]");
    }

    @Test
    void anUnexpectedTensorIsNamed() throws IOException {
        savedAdapter();
        String extra = "base_model.model.model.layers.0.mlp.up_proj.lora_A.weight";
        rewriteWeights(
                entries -> entries.add(SafetensorsWriter.floats(extra, new long[] {8, 64}, new float[512], DType.F32)));

        assertLoadFails("adapter_model.safetensors", "'" + extra + "'", "is not a LoRA tensor of this model");
    }

    @Test
    void unsupportedSettingsAreNamedByKey() throws IOException {
        savedAdapter();
        editConfig(json -> json.put("fan_in_fan_out", true));
        assertLoadFails("adapter_config.json", "'fan_in_fan_out'", "not supported, got true");

        editConfig(json -> {
            json.put("fan_in_fan_out", false);
            json.putObject("rank_pattern").put("q_proj", 16);
        });
        assertLoadFails("adapter_config.json", "'rank_pattern'", "per-module ranks");
    }

    @Test
    void aDoraConfigWithoutMagnitudesIsReportedByTensor() throws IOException {
        savedAdapter();
        editConfig(json -> json.put("use_dora", true));

        assertLoadFails(
                "adapter_model.safetensors",
                "'base_model.model.model.layers.0.self_attn.q_proj.lora_magnitude_vector'",
                "missing");
    }

    /**
     * PEFT saves DoRA's magnitude of module M as {@code base_model.model.M.lora_magnitude_vector} [O]
     * (its state-dict key {@code M.lora_magnitude_vector.default.weight} without adapter name and
     * {@code .weight}) and records {@code "use_dora": true}.
     */
    @Test
    void aDoraAdapterRoundTripsUnderPeftNamesWithIdenticalLogits() throws IOException {
        LoraConfig config = LoraConfig.defaults()
                .withR(4)
                .withAlpha(12.5)
                .withUseDora(true)
                .withTargetModules("q_proj", "down_proj");
        Adapters adapters = trained(config);
        String magnitude = "base_model.model.model.layers.1.mlp.down_proj.lora_magnitude_vector";
        float[] expected;
        float[] trainedMagnitude;
        long outFeatures = adapters.layers().get("model.layers.1.mlp.down_proj").outFeatures();
        try (CausalLm model = adapters.model()) {
            expected = logits(model);
            trainedMagnitude =
                    adapters.trainableParameters().get(magnitude).array().toFloatArray();
            PeftAdapter.save(adapters, dir, "tiny");
        }

        String json = Files.readString(dir.resolve("adapter_config.json"));
        assertThat(json).contains("\"use_dora\": true,").contains("\"lora_alpha\": 12.5,");
        try (SafetensorsReader reader = SafetensorsReader.open(dir.resolve("adapter_model.safetensors"))) {
            assertThat(reader.names()).hasSize(2 * 2 * 3).contains(magnitude);
            assertThat(reader.names()).noneMatch(name -> name.endsWith("lora_magnitude_vector.weight"));
            assertThat(reader.info(magnitude).shape()).containsExactly(outFeatures);
        }
        try (CausalLm fresh = AdapterFixtures.tinyModel(ModelType.QWEN3)) {
            float[] base = logits(fresh);
            Adapters loaded = PeftAdapter.load(fresh, dir);

            assertThat(loaded.config()).isEqualTo(config.withTargetModules("down_proj", "q_proj"));
            assertThat(loaded.trainableParameters().get(magnitude).array().toFloatArray())
                    .containsExactly(trainedMagnitude);
            assertThat(logits(fresh)).containsExactly(expected);
            assertThat(AdapterFixtures.maxAbsDiff(expected, base)).isGreaterThan(1e-3);
        }
    }

    @Test
    void badValuesAndUnknownTargetsAreNamedByKey() throws IOException {
        savedAdapter();
        editConfig(json -> json.put("r", 0));
        assertLoadFails("adapter_config.json", "'r'", "lora.r must be a positive integer, got 0");

        editConfig(json -> {
            json.put("r", 8);
            json.put("lora_alpha", -0.5);
        });
        assertLoadFails("adapter_config.json", "'lora_alpha'", "lora.alpha must be a positive number, got -0.5");

        editConfig(json -> json.put("lora_alpha", "16"));
        assertLoadFails("adapter_config.json", "'lora_alpha'", "must be a number, got \"16\"");

        editConfig(json -> {
            json.put("lora_alpha", 16);
            json.putArray("target_modules").add("c_attn");
        });
        assertLoadFails("adapter_config.json", "'target_modules'", "\"c_attn\" matches no linear layer", "q_proj");
    }

    @Test
    void aDirectoryWithoutAnAdapterIsReported() {
        assertLoadFails(dir.resolve("adapter_config.json").toString(), "does not exist");
    }
}
