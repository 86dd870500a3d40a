package dev.finetune.llm.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.Device;
import ai.djl.ndarray.NDScope;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.finetune.llm.checkpoint.Checkpoint;
import dev.finetune.llm.checkpoint.CheckpointException;
import dev.finetune.llm.checkpoint.DType;
import dev.finetune.llm.checkpoint.SafetensorsReader;
import dev.finetune.llm.checkpoint.SafetensorsWriter;
import dev.finetune.llm.checkpoint.ShardedSafetensors;
import dev.finetune.llm.quant.BaseStorage;
import dev.finetune.llm.testing.ParityFixture;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ModelLoadingTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"llama", "llama2", "mistral", "qwen2", "qwen3"})
    void parameterPathsAreExactlyTheHuggingFaceTensorNames(String name) throws IOException {
        Path fixture = ParityFixture.resource("/parity/" + name);
        try (CausalLm model = CausalLm.load(fixture, Device.cpu());
                SafetensorsReader reader = SafetensorsReader.open(fixture.resolve("model.safetensors"))) {
            assertThat(model.namedParameters().keySet()).containsExactlyInAnyOrderElementsOf(reader.names());
            assertThat(model.namedParameters())
                    .containsKeys(
                            "model.embed_tokens.weight", "model.layers.0.self_attn.q_proj.weight", "model.norm.weight");
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"llama", "mistral", "qwen2", "qwen3"})
    void verifyAcceptsACheckpointItCouldLoad(String name) throws IOException {
        try (Checkpoint checkpoint = Checkpoint.open(ParityFixture.resource("/parity/" + name))) {
            CausalLm.verify(checkpoint);
        }
    }

    /** What load refuses before reading, verify refuses without reading: missing, misshapen and extra tensors. */
    @Test
    void verifyRefusesWhatLoadRefusesNamingTheTensor() throws IOException {
        Path misshapen = copyWithTensors(
                "llama", tensors -> replace(tensors, "model.layers.1.mlp.up_proj.weight", new long[] {64, 160}));
        Path missing = copyWithTensors("qwen3", tensors -> {
            tensors.removeIf(e -> e.name().equals("model.layers.0.self_attn.k_norm.weight"));
            return tensors;
        });
        Path extra = copyWithTensors("mistral", tensors -> {
            tensors.add(SafetensorsWriter.floats(
                    "model.layers.0.self_attn.q_norm.weight", new long[] {32}, new float[32], DType.F32));
            return tensors;
        });

        assertThatThrownBy(() -> verify(misshapen))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining("'model.layers.1.mlp.up_proj.weight'")
                .hasMessageContaining("does not match the expected shape [160, 64]");
        assertThatThrownBy(() -> verify(missing))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining("'model.layers.0.self_attn.k_norm.weight'")
                .hasMessageContaining("no such tensor");
        assertThatThrownBy(() -> verify(extra))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining("'model.layers.0.self_attn.q_norm.weight'")
                .hasMessageContaining("is not a parameter of a mistral model");
    }

    private static void verify(Path directory) throws CheckpointException {
        try (Checkpoint checkpoint = Checkpoint.open(directory)) {
            CausalLm.verify(checkpoint);
        }
    }

    @Test
    void tensorWithTheWrongShapeIsReportedWithFileTensorAndShapes() throws IOException {
        Path broken = copyWithTensors(
                "llama", tensors -> replace(tensors, "model.layers.1.mlp.up_proj.weight", new long[] {64, 160}));

        assertThatThrownBy(() -> CausalLm.load(broken, Device.cpu()))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining(broken.resolve("model.safetensors").toString())
                .hasMessageContaining("'model.layers.1.mlp.up_proj.weight'")
                .hasMessageContaining("[64, 160]")
                .hasMessageContaining("[160, 64]");
    }

    /** F8, integer or other dtypes cannot become engine arrays: refused before anything is read. */
    @Test
    void tensorInADtypeTheEngineCannotStoreIsRefusedWithTensorAndDtype() throws IOException {
        String name = "model.layers.1.mlp.up_proj.weight";
        Path broken = copyWithTensors("llama", tensors -> {
            SafetensorsWriter.Entry original = tensors.stream()
                    .filter(e -> e.name().equals(name))
                    .findFirst()
                    .orElseThrow();
            long count = java.util.Arrays.stream(original.shape()).reduce(1, Math::multiplyExact);
            tensors.replaceAll(e -> e == original
                    ? new SafetensorsWriter.Entry(
                            name, DType.F8_E4M3, original.shape(), ByteBuffer.allocate((int) count))
                    : e);
            return tensors;
        });

        for (LinearStorage storage : List.of(LinearStorage.FP32, BaseStorage.INT8, BaseStorage.NF4)) {
            assertThatThrownBy(() -> CausalLm.load(broken, Device.cpu(), storage))
                    .isInstanceOf(CheckpointException.class)
                    .hasMessageContaining("'" + name + "'")
                    .hasMessageContaining("dtype F8_E4M3 cannot be stored by the engine");
        }
    }

    @Test
    void missingTensorIsReportedWithFileAndTensorName() throws IOException {
        Path broken = copyWithTensors("qwen3", tensors -> {
            tensors.removeIf(e -> e.name().equals("model.layers.0.self_attn.k_norm.weight"));
            return tensors;
        });

        assertThatThrownBy(() -> CausalLm.load(broken, Device.cpu()))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining(broken.resolve("model.safetensors").toString())
                .hasMessageContaining("'model.layers.0.self_attn.k_norm.weight'")
                .hasMessageContaining("no such tensor");
    }

    @Test
    void tensorTheModelHasNoParameterForIsReported() throws IOException {
        Path broken = copyWithTensors("mistral", tensors -> {
            tensors.add(SafetensorsWriter.floats(
                    "model.layers.0.self_attn.q_norm.weight", new long[] {32}, new float[32], DType.F32));
            return tensors;
        });

        assertThatThrownBy(() -> CausalLm.load(broken, Device.cpu()))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining("'model.layers.0.self_attn.q_norm.weight'")
                .hasMessageContaining("is not a parameter of a mistral model");
    }

    @Test
    void shardedCheckpointGivesTheSameLogitsAsTheSingleFile() throws IOException {
        ParityFixture fixture = ParityFixture.load("qwen2");
        Path sharded = dir.resolve("sharded");
        float[] original;
        try (CausalLm model = CausalLm.load(fixture.directory(), Device.cpu())) {
            model.save(sharded, DType.F32, 100_000);
            original = logits(model, fixture);
        }
        try (var files = Files.list(sharded)) {
            assertThat(files.map(p -> p.getFileName().toString()))
                    .contains(ShardedSafetensors.INDEX_FILE, "config.json", "model-00001-of-00005.safetensors")
                    .doesNotContain("model.safetensors");
        }
        try (CausalLm reloaded = CausalLm.load(sharded, Device.cpu())) {
            assertThat(logits(reloaded, fixture)).containsExactly(original);
        }
    }

    @Test
    void savingInTheOtherLayoutReplacesTheOldWeightFiles() throws IOException {
        Path target = dir.resolve("model");
        try (CausalLm model = CausalLm.load(ParityFixture.resource("/parity/llama2"), Device.cpu())) {
            model.save(target, DType.F32, 100_000);
        }
        try (CausalLm other = CausalLm.load(ParityFixture.resource("/parity/llama"), Device.cpu())) {
            other.save(target, DType.F32);
        }
        try (var files = Files.list(target)) {
            assertThat(files.map(p -> p.getFileName().toString()))
                    .containsExactlyInAnyOrder("config.json", "model.safetensors");
        }
        try (CausalLm reloaded = CausalLm.load(target, Device.cpu())) {
            assertThat(reloaded.config().rope().type()).isEqualTo("llama3");
        }
        try (CausalLm model = CausalLm.load(ParityFixture.resource("/parity/llama2"), Device.cpu())) {
            model.save(target, DType.F32, 100_000);
        }
        try (var files = Files.list(target)) {
            assertThat(files.map(p -> p.getFileName().toString())).doesNotContain("model.safetensors");
        }
        try (CausalLm reloaded = CausalLm.load(target, Device.cpu())) {
            assertThat(reloaded.config().rope().type()).isEqualTo("default");
        }
    }

    @Test
    void indexNamingAMissingShardIsReportedWithTheShard() throws IOException {
        Path sharded = dir.resolve("sharded");
        try (CausalLm model = CausalLm.load(ParityFixture.resource("/parity/llama"), Device.cpu())) {
            model.save(sharded, DType.BF16, 100_000);
        }
        String shard = weightMap(sharded).get("model.norm.weight");
        Files.delete(sharded.resolve(shard));

        assertThatThrownBy(() -> CausalLm.load(sharded, Device.cpu()))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining(
                        sharded.resolve(ShardedSafetensors.INDEX_FILE).toString())
                .hasMessageContaining(shard + " does not exist");
    }

    @Test
    void indexPromisingATensorItsShardLacksIsReported() throws IOException {
        Path sharded = dir.resolve("sharded");
        try (CausalLm model = CausalLm.load(ParityFixture.resource("/parity/llama"), Device.cpu())) {
            model.save(sharded, DType.F32, 100_000);
        }
        Map<String, String> weightMap = weightMap(sharded);
        String wrongShard = weightMap.get("model.embed_tokens.weight");
        assertThat(weightMap.get("model.norm.weight")).isNotEqualTo(wrongShard);
        ObjectNode index = (ObjectNode)
                JSON.readTree(sharded.resolve(ShardedSafetensors.INDEX_FILE).toFile());
        ((ObjectNode) index.get("weight_map")).put("model.norm.weight", wrongShard);
        JSON.writeValue(sharded.resolve(ShardedSafetensors.INDEX_FILE).toFile(), index);

        assertThatThrownBy(() -> CausalLm.load(sharded, Device.cpu()))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining(sharded.resolve(wrongShard).toString())
                .hasMessageContaining("'model.norm.weight'")
                .hasMessageContaining("no such tensor");
    }

    private static Map<String, String> weightMap(Path sharded) throws IOException {
        JsonNode index =
                JSON.readTree(sharded.resolve(ShardedSafetensors.INDEX_FILE).toFile());
        Map<String, String> map = new java.util.TreeMap<>();
        index.get("weight_map")
                .properties()
                .forEach(e -> map.put(e.getKey(), e.getValue().asText()));
        return map;
    }

    @Test
    void savedBf16ModelReloadsToTheRoundedWeights() throws IOException {
        Path saved = dir.resolve("bf16");
        try (CausalLm model = CausalLm.load(ParityFixture.resource("/parity/qwen3"), Device.cpu())) {
            model.save(saved, DType.BF16);
        }
        try (CausalLm reloaded = CausalLm.load(saved, Device.cpu());
                CausalLm reference = CausalLm.load(ParityFixture.resource("/parity/qwen3-bf16"), Device.cpu())) {
            assertThat(Files.readString(saved.resolve("config.json"))).contains("\"torch_dtype\" : \"bfloat16\"");
            for (String name : reference.namedParameters().keySet()) {
                assertThat(reloaded.namedParameters().get(name).array().toFloatArray())
                        .as(name)
                        .containsExactly(
                                reference.namedParameters().get(name).array().toFloatArray());
            }
        }
    }

    @SuppressWarnings("try")
    private static float[] logits(CausalLm model, ParityFixture fixture) {
        try (NDScope ignored = new NDScope()) {
            return model.forward(
                            model.manager().create(fixture.inputIds()),
                            model.manager().create(fixture.attentionMask()),
                            null)
                    .toFloatArray();
        }
    }

    /** Copies a fixture, passing its tensors through {@code edit} on the way. */
    private Path copyWithTensors(String name, UnaryOperator<List<SafetensorsWriter.Entry>> edit) throws IOException {
        Path source = ParityFixture.resource("/parity/" + name);
        Path target = Files.createDirectories(dir.resolve(name));
        Files.copy(source.resolve("config.json"), target.resolve("config.json"));
        List<SafetensorsWriter.Entry> entries = new ArrayList<>();
        try (SafetensorsReader reader = SafetensorsReader.open(source.resolve("model.safetensors"))) {
            for (String tensor : reader.names()) {
                entries.add(SafetensorsWriter.floats(
                        tensor, reader.info(tensor).shape(), reader.readFloats(tensor), DType.F32));
            }
        }
        SafetensorsWriter.write(target.resolve("model.safetensors"), edit.apply(entries), Map.of());
        return target;
    }

    private static List<SafetensorsWriter.Entry> replace(
            List<SafetensorsWriter.Entry> entries, String name, long[] newShape) {
        for (int i = 0; i < entries.size(); i++) {
            SafetensorsWriter.Entry e = entries.get(i);
            if (e.name().equals(name)) {
                entries.set(i, new SafetensorsWriter.Entry(name, e.dtype(), newShape, e.data()));
            }
        }
        return entries;
    }
}
