package dev.finetune.llm.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.finetune.llm.testing.ParityFixture;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelConfigJsonTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private static ModelConfig published(String name) throws CheckpointException {
        return ModelConfigJson.read(ParityFixture.resource("/configs/" + name + ".json"));
    }

    @Test
    void llama31ConfigHasLlama3RopeScalingAndGroupedQueryAttention() throws CheckpointException {
        ModelConfig c = published("llama-3.1-8b");

        assertThat(c.modelType()).isEqualTo(ModelType.LLAMA);
        assertThat(c.headDim()).isEqualTo(128);
        assertThat(c.numKeyValueGroups()).isEqualTo(4);
        assertThat(c.rope()).isEqualTo(RopeConfig.llama3(500000.0, 8.0, 1.0, 4.0, 8192));
        assertThat(c.rmsNormEps()).isEqualTo(1e-5);
        assertThat(c.eosTokenIds()).containsExactly(128001, 128008, 128009);
        assertThat(c.tieWordEmbeddings()).isFalse();
        assertThat(c.qkvBias() || c.outputBias() || c.mlpBias() || c.qkNorm()).isFalse();
        assertThat(c.slidingLayers()).containsOnly(false);
    }

    @Test
    void mistralConfigSlidesEveryLayerOverItsWindow() throws CheckpointException {
        ModelConfig c = published("mistral-7b-v0.1");

        assertThat(c.slidingWindow()).isEqualTo(4096);
        assertThat(c.slidingLayers()).hasSize(32).containsOnly(true);
        assertThat(c.headDim()).isEqualTo(128);
    }

    @Test
    void qwen2ConfigHasQkvBiasesButNoOutputBiasAndTiedEmbeddings() throws CheckpointException {
        ModelConfig c = published("qwen2.5-0.5b");

        assertThat(c.qkvBias()).isTrue();
        assertThat(c.outputBias()).isFalse();
        assertThat(c.tieWordEmbeddings()).isTrue();
        assertThat(c.headDim()).isEqualTo(64);
        assertThat(c.slidingLayers()).as("use_sliding_window is false").containsOnly(false);
    }

    @Test
    void qwen3ConfigHasExplicitHeadDimAndPerHeadQkNorm() throws CheckpointException {
        ModelConfig c = published("qwen3-0.6b");

        assertThat(c.headDim()).isEqualTo(128).isNotEqualTo(c.hiddenSize() / c.numAttentionHeads());
        assertThat(c.qkNorm()).isTrue();
        assertThat(c.qkvBias()).isFalse();
        assertThat(c.rope()).isEqualTo(RopeConfig.plain(1_000_000.0));
    }

    @Test
    void writtenConfigReadsBackEqual() throws IOException {
        for (String name : List.of("llama-3.1-8b", "mistral-7b-v0.1", "qwen2.5-0.5b", "qwen3-0.6b")) {
            ModelConfig original = published(name);
            String written = ModelConfigJson.toJson(original, "bfloat16").toString();
            assertThat(ModelConfigJson.parse(written, Path.of(name))).as(name).isEqualTo(original);
        }
        ModelConfig qwenSliding = published("qwen3-0.6b").toBuilder()
                .numHiddenLayers(3)
                .slidingWindow(16, List.of(false, true, true))
                .build();
        assertThat(ModelConfigJson.parse(
                        ModelConfigJson.toJson(qwenSliding, "float32").toString(), dir))
                .isEqualTo(qwenSliding);
    }

    @Test
    void transformersV5RopeParametersAreUnderstood() throws IOException {
        ModelConfig c = parseEdited("llama-3.1-8b", o -> {
            ObjectNode parameters = (ObjectNode) o.remove("rope_scaling");
            o.remove("rope_theta");
            parameters.put("rope_theta", 250000.0);
            o.set("rope_parameters", parameters);
        });
        assertThat(c.rope()).isEqualTo(RopeConfig.llama3(250000.0, 8.0, 1.0, 4.0, 8192));
    }

    @Test
    void mistralWithNullSlidingWindowAttendsToEverything() throws IOException {
        ModelConfig c = parseEdited("mistral-7b-v0.1", o -> o.putNull("sliding_window"));
        assertThat(c.slidingWindow()).isZero();
        assertThat(c.slidingLayers()).containsOnly(false);
    }

    @Test
    void aMistralWithMoreLayersStillSlidesEveryLayer() throws CheckpointException {
        ModelConfig c =
                published("mistral-7b-v0.1").toBuilder().numHiddenLayers(40).build();
        assertThat(c.slidingLayers()).hasSize(40).containsOnly(true);
    }

    @Test
    void qwenSlidingWindowAppliesFromMaxWindowLayersOn() throws IOException {
        ModelConfig c = parseEdited("qwen2.5-0.5b", o -> o.put("use_sliding_window", true));
        assertThat(c.slidingWindow()).isEqualTo(32768);
        assertThat(c.slidingLayers().subList(0, 21)).containsOnly(false);
        assertThat(c.slidingLayers().subList(21, 24)).containsOnly(true);
    }

    @Test
    void unsupportedModelTypeIsNamed() {
        assertRejected(o -> o.put("model_type", "gpt2"), "model_type", "unsupported value 'gpt2'");
    }

    @Test
    void unsupportedActivationIsNamed() {
        assertRejected(o -> o.put("hidden_act", "gelu"), "hidden_act", "unsupported value 'gelu'");
    }

    @Test
    void unsupportedRopeScalingIsNamed() {
        assertRejected(
                o -> ((ObjectNode) o.get("rope_scaling")).put("rope_type", "yarn"),
                "rope_scaling.rope_type",
                "unsupported value 'yarn'");
    }

    @Test
    void missingRequiredFieldIsNamed() {
        assertRejected(o -> o.remove("hidden_size"), "hidden_size", "is required");
    }

    @Test
    void wronglyTypedFieldIsNamedWithItsValue() {
        assertRejected(o -> o.put("num_hidden_layers", "32"), "num_hidden_layers", "must be an integer, got \"32\"");
    }

    @Test
    void headsNotDivisibleByKeyValueHeadsAreRejected() {
        assertRejected(o -> o.put("num_key_value_heads", 5), "num_key_value_heads", "does not divide");
    }

    @Test
    void incompleteLlama3ScalingIsNamed() {
        assertRejected(
                o -> ((ObjectNode) o.get("rope_scaling")).remove("low_freq_factor"),
                "rope_scaling.low_freq_factor",
                "is required");
    }

    @Test
    void quantizedCheckpointIsRejected() {
        assertRejected(
                o -> o.putObject("quantization_config").put("quant_method", "gptq"),
                "quantization_config",
                "not supported");
    }

    @Test
    void builderRejectsNonPositiveSizesNamingTheField() {
        assertThatThrownBy(() -> ModelConfig.builder(ModelType.LLAMA)
                        .vocabSize(0)
                        .hiddenSize(8)
                        .intermediateSize(8)
                        .numHiddenLayers(1)
                        .numAttentionHeads(2)
                        .build())
                .isInstanceOf(ModelConfig.InvalidField.class)
                .hasMessage("vocab_size: must be a positive integer, got 0");
    }

    private ModelConfig parseEdited(String name, Consumer<ObjectNode> edit) throws IOException {
        ObjectNode o = (ObjectNode) JSON.readTree(
                ParityFixture.resource("/configs/" + name + ".json").toFile());
        edit.accept(o);
        Path file = Files.writeString(dir.resolve("config.json"), o.toString());
        return ModelConfigJson.read(file);
    }

    private void assertRejected(Consumer<ObjectNode> edit, String field, String problem) {
        assertThatThrownBy(() -> parseEdited("llama-3.1-8b", edit))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining(dir.resolve("config.json").toString())
                .hasMessageContaining("'" + field + "'")
                .hasMessageContaining(problem)
                .satisfies(e -> assertThat(((CheckpointException) e).item()).isEqualTo(field));
    }
}
