package dev.finetune.llm.tiny;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.llm.checkpoint.DType;
import dev.finetune.llm.checkpoint.ModelConfig;
import dev.finetune.llm.checkpoint.ModelConfigJson;
import dev.finetune.llm.checkpoint.ModelType;
import dev.finetune.llm.checkpoint.SafetensorsReader;
import dev.finetune.llm.model.CausalLm;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class TinyModelGeneratorTest {
    @TempDir
    Path dir;

    @SuppressWarnings("try")
    @ParameterizedTest
    @EnumSource(ModelType.class)
    void generatedModelIsInHuggingFaceLayoutAndRuns(ModelType type) throws IOException {
        ModelConfig config = TinyModels.config(type);
        TinyModelGenerator.write(config, 42, dir);

        JsonNode json = new ObjectMapper().readTree(dir.resolve("config.json").toFile());
        assertThat(json.get("model_type").asText()).isEqualTo(type.hfName());
        assertThat(json.get("architectures").get(0).asText()).isEqualTo(type.architecture());
        assertThat(ModelConfigJson.read(dir.resolve("config.json"))).isEqualTo(config);
        try (SafetensorsReader weights = SafetensorsReader.open(dir.resolve("model.safetensors"))) {
            assertThat(weights.names()).contains("model.embed_tokens.weight", "model.layers.1.mlp.down_proj.weight");
            assertThat(weights.names().contains("lm_head.weight")).isEqualTo(!config.tieWordEmbeddings());
            assertThat(weights.metadata()).containsEntry("format", "pt");
        }
        try (CausalLm model = CausalLm.load(dir, Device.cpu());
                NDScope ignored = new NDScope()) {
            NDArray logits = model.forward(model.manager().create(new long[][] {{1, 5, 9, 3}}), null, null);
            assertThat(logits.getShape().getShape()).containsExactly(1, 4, 128);
            float[] values = logits.toFloatArray();
            float spread = 0;
            for (float v : values) {
                assertThat(Float.isFinite(v)).isTrue();
                spread = Math.max(spread, Math.abs(v));
            }
            assertThat(spread).as("random weights give non-trivial logits").isGreaterThan(1f);
        }
    }

    @Test
    void sameSeedWritesIdenticalBytesAndAnotherSeedDoesNot() throws IOException {
        ModelConfig config = TinyModels.config(ModelType.QWEN2);
        TinyModelGenerator.write(config, 7, dir.resolve("a"));
        TinyModelGenerator.write(config, 7, dir.resolve("b"));
        TinyModelGenerator.write(config, 8, dir.resolve("c"));

        byte[] a = Files.readAllBytes(dir.resolve("a/model.safetensors"));
        assertThat(Files.readAllBytes(dir.resolve("b/model.safetensors"))).isEqualTo(a);
        assertThat(Files.readAllBytes(dir.resolve("c/model.safetensors"))).isNotEqualTo(a);
    }

    @Test
    void bf16ModelStoresBf16TensorsAndSaysSo() throws IOException {
        ModelConfig config = TinyModels.config(ModelType.LLAMA);
        TinyModelGenerator.write(
                config, 1, TinyModelGenerator.Initialization.TEST, DType.BF16, TokenizerFiles.NONE, dir);

        try (SafetensorsReader weights = SafetensorsReader.open(dir.resolve("model.safetensors"))) {
            assertThat(weights.info("model.norm.weight").dtype()).isEqualTo(DType.BF16);
        }
        assertThat(new ObjectMapper()
                        .readTree(dir.resolve("config.json").toFile())
                        .get("torch_dtype")
                        .asText())
                .isEqualTo("bfloat16");
    }

    @Test
    void tokenizerHookWritesItsFilesBesideTheModel() throws IOException {
        ModelConfig config = TinyModels.config(ModelType.QWEN3);
        TokenizerFiles tokenizer = (directory, c) ->
                Files.writeString(directory.resolve("tokenizer.json"), "{\"vocab_size\": " + c.vocabSize() + "}");

        TinyModelGenerator.write(config, 3, TinyModelGenerator.Initialization.TEST, DType.F32, tokenizer, dir);

        assertThat(Files.readString(dir.resolve("tokenizer.json"))).isEqualTo("{\"vocab_size\": 128}");
        assertThat(dir.resolve("model.safetensors")).exists();
    }
}
