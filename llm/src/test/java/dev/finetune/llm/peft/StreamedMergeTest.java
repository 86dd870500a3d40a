package dev.finetune.llm.peft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.Device;
import dev.finetune.llm.checkpoint.CheckpointException;
import dev.finetune.llm.checkpoint.DType;
import dev.finetune.llm.checkpoint.FloatFormats;
import dev.finetune.llm.checkpoint.ModelConfig;
import dev.finetune.llm.checkpoint.ModelType;
import dev.finetune.llm.checkpoint.SafetensorsReader;
import dev.finetune.llm.checkpoint.SafetensorsWriter;
import dev.finetune.llm.checkpoint.ShardedSafetensors;
import dev.finetune.llm.checkpoint.TensorSource;
import dev.finetune.llm.lora.Adapters;
import dev.finetune.llm.lora.LoraConfig;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.testing.AdapterFixtures;
import dev.finetune.llm.testing.ChildJvm;
import dev.finetune.llm.tiny.TinyModelGenerator;
import dev.finetune.llm.tiny.TinyModels;
import dev.finetune.llm.tiny.TokenizerFiles;
import dev.finetune.llm.tokenizer.TinyTokenizerWriter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The merged export streamed tensor by tensor from the base checkpoint on disk: the same weights as
 * merging in fp32 and rounding, in the base's dtype and layout, refused when the result is not
 * finite, never left half-written, and within about one tensor of memory.
 */
class StreamedMergeTest {
    private static final LoraConfig LORA = LoraConfig.defaults()
            .withR(4)
            .withTargetModules("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj");

    @TempDir
    Path dir;

    /**
     * A bf16 base (sharded, tied head, q/k/v biases) merged on disk is, bit for bit, the fp32 merge of
     * the loaded model rounded to bf16 to nearest even; untouched tensors keep their bytes.
     */
    @Test
    void aBf16BaseMergesToTheRoundedFp32MergeBitForBit() throws IOException {
        ModelConfig config = TinyModels.config(ModelType.QWEN2);
        Path base = base(config, DType.BF16, 30_000);
        Path adapter = randomAdapter(config, dir.resolve("adapter"), 8);
        Path reference = dir.resolve("reference");
        float[] adapted;
        try (CausalLm model = CausalLm.load(base, Device.cpu())) {
            PeftAdapter.load(model, adapter);
            adapted = AdapterFixtures.logits(model);
            MergedCheckpoint.write(model, reference, DType.F32, Long.MAX_VALUE, base); // fp32, in memory
        }
        Path merged = dir.resolve("merged");

        StreamedMerge.write(base, adapter, merged, 30_000);

        assertThat(merged.resolve(ShardedSafetensors.INDEX_FILE)).exists();
        assertThat(merged.resolve("config.json")).hasSameTextualContentAs(base.resolve("config.json"));
        assertThat(merged.resolve("tokenizer.json")).hasSameBinaryContentAs(base.resolve("tokenizer.json"));
        try (var files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).noneMatch(name -> name.contains(".partial-"));
        }
        try (TensorSource out = open(merged);
                TensorSource in = open(base);
                SafetensorsReader fp32 = SafetensorsReader.open(reference.resolve("model.safetensors"))) {
            assertThat(out.names()).containsExactlyElementsOf(in.names());
            int changed = 0;
            for (String name : in.names()) {
                assertThat(out.info(name).dtype()).as(name).isEqualTo(DType.BF16);
                short[] expected = bf16(fp32.readFloats(name));
                short[] actual = shorts(out, name);
                assertThat(actual).as(name).containsExactly(expected);
                if (!java.util.Arrays.equals(actual, shorts(in, name))) {
                    changed++;
                }
            }
            assertThat(changed).isEqualTo(14); // the 7 linears of each of the 2 layers
        }
        try (CausalLm reloaded = CausalLm.load(merged, Device.cpu())) {
            // bf16 rounding of the merged weights moves the logits a little (|logits| up to ~14 here).
            assertThat(AdapterFixtures.maxAbsDiff(AdapterFixtures.logits(reloaded), adapted))
                    .isLessThan(0.5);
        }
    }

    /** An fp32 base gives fp32 weights equal to the in-memory merge, in one file. */
    @Test
    void anFp32BaseMergesToExactlyTheInMemoryMerge() throws IOException {
        ModelConfig config = TinyModels.config(ModelType.LLAMA);
        Path base = base(config, DType.F32, Long.MAX_VALUE);
        Path adapter = randomAdapter(config, dir.resolve("adapter"), 9);
        Path reference = dir.resolve("reference");
        try (CausalLm model = CausalLm.load(base, Device.cpu())) {
            PeftAdapter.load(model, adapter);
            MergedCheckpoint.write(model, reference, base);
        }
        Path merged = dir.resolve("merged");

        StreamedMerge.write(base, adapter, merged, Long.MAX_VALUE);

        assertThat(merged.resolve(ShardedSafetensors.INDEX_FILE)).doesNotExist();
        try (SafetensorsReader out = SafetensorsReader.open(merged.resolve("model.safetensors"));
                SafetensorsReader fp32 = SafetensorsReader.open(reference.resolve("model.safetensors"))) {
            assertThat(out.names()).containsExactlyInAnyOrderElementsOf(fp32.names());
            for (String name : fp32.names()) {
                assertThat(out.info(name).dtype()).isEqualTo(DType.F32);
                assertThat(out.readFloats(name)).as(name).containsExactly(fp32.readFloats(name));
            }
        }
    }

    /**
     * DoRA: each merged row is {@code m / ||W + s B A|| * (W + s B A)}, as the in-memory merge computes
     * it; the row norms are summed in double here and in fp32 by the engine, so values agree to fp32
     * rounding, not bit for bit.
     */
    @Test
    void aDoraAdapterMergesAsTheInMemoryMerge() throws IOException {
        ModelConfig config = TinyModels.config(ModelType.QWEN2);
        Path base = base(config, DType.F32, 30_000);
        LoraConfig dora = LORA.withAlpha(12.5).withUseDora(true);
        Path adapter = randomAdapter(config, dir.resolve("adapter"), dora, 14);
        Path reference = dir.resolve("reference");
        try (CausalLm model = CausalLm.load(base, Device.cpu())) {
            assertThat(PeftAdapter.load(model, adapter).config().useDora()).isTrue();
            MergedCheckpoint.write(model, reference, base);
        }
        Path merged = dir.resolve("merged");

        StreamedMerge.write(base, adapter, merged, 30_000);

        double worst = 0;
        try (TensorSource out = open(merged);
                TensorSource in = open(base);
                SafetensorsReader fp32 = SafetensorsReader.open(reference.resolve("model.safetensors"))) {
            for (String name : in.names()) {
                float[] expected = fp32.readFloats(name);
                float[] actual = new float[expected.length];
                out.readFloats(name, 0, actual, 0, actual.length);
                double scale = Math.max(1e-3, AdapterFixtures.maxAbs(expected));
                worst = Math.max(worst, AdapterFixtures.maxAbsDiff(actual, expected) / scale);
            }
        }
        assertThat(worst).isLessThan(1e-6);
    }

    @Test
    void aDoraAdapterWithoutAMagnitudeIsRefusedNamingTheTensor() throws IOException {
        ModelConfig config = TinyModels.config(ModelType.LLAMA);
        Path base = base(config, DType.BF16, Long.MAX_VALUE);
        Path adapter = randomAdapter(config, dir.resolve("adapter"), 11);
        AdapterConfigJson.write(
                LORA.withUseDora(true),
                LORA.targetModules(),
                base.toString(),
                adapter.resolve(AdapterConfigJson.FILE_NAME));

        assertThatThrownBy(() -> StreamedMerge.write(base, adapter, dir.resolve("merged"), Long.MAX_VALUE))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining("lora_magnitude_vector'")
                .hasMessageContaining("missing");
        assertThat(dir.resolve("merged")).doesNotExist();
    }

    /** PEFT's safe_merge: a NaN in the adapter is refused naming the tensor, and nothing is left behind. */
    @Test
    void aMergeWithNonFiniteWeightsIsRefusedNamingTheTensorAndLeavesNothing() throws IOException {
        ModelConfig config = TinyModels.config(ModelType.LLAMA);
        Path base = base(config, DType.BF16, 30_000);
        Path adapter = randomAdapter(config, dir.resolve("adapter"), 10);
        poison(adapter, "base_model.model.model.layers.1.mlp.down_proj.lora_B.weight");
        Path merged = dir.resolve("merged");

        assertThatThrownBy(() -> StreamedMerge.write(base, adapter, merged, 30_000))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining("'model.layers.1.mlp.down_proj.weight'")
                .hasMessageContaining("NaN")
                .hasMessageContaining("safe_merge");
        assertThat(merged).doesNotExist();
        try (var files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("base", "adapter");
        }
    }

    @Test
    void anAdapterOfAnotherRankIsRefusedNamingTheTensor() throws IOException {
        ModelConfig config = TinyModels.config(ModelType.LLAMA);
        Path base = base(config, DType.BF16, Long.MAX_VALUE);
        Path adapter = randomAdapter(config, dir.resolve("adapter"), 11);
        AdapterConfigJson.write(
                LORA.withR(8), LORA.targetModules(), base.toString(), adapter.resolve(AdapterConfigJson.FILE_NAME));

        assertThatThrownBy(() -> StreamedMerge.write(base, adapter, dir.resolve("merged"), Long.MAX_VALUE))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining("lora_A.weight'")
                .hasMessageContaining("of rank 8 do not fit the base weight");
        assertThat(dir.resolve("merged")).doesNotExist();
    }

    /**
     * In a JVM of its own (fixed heap, malloc returning freed memory): merging a rank-16 adapter into
     * every linear of a bf16 checkpoint of 98 MiB (196 MiB in fp32) peaks at about one fp32 tensor
     * (the largest linear, 3 MiB, as B A) plus buffers, never near the model. Measured on this code:
     * peak +4 MiB.
     */
    @Test
    void theMergePeaksAtAboutOneTensorWhateverTheModelSize() throws Exception {
        ModelConfig config = TinyModels.config(ModelType.LLAMA).toBuilder()
                .vocabSize(1024)
                .hiddenSize(512)
                .intermediateSize(1536)
                .numHiddenLayers(16)
                .numAttentionHeads(8)
                .numKeyValueHeads(4)
                .headDim(64)
                .build();
        Path base = dir.resolve("big");
        TinyModelGenerator.write(
                config,
                5,
                TinyModelGenerator.Initialization.huggingFace(config),
                DType.BF16,
                TokenizerFiles.NONE,
                base);
        Path adapter = randomAdapter(config, dir.resolve("big-adapter"), LORA.withR(16), 12);
        ModelConfig small = TinyModels.config(ModelType.LLAMA);
        Path warmupBase = base(small, DType.BF16, Long.MAX_VALUE);
        Path warmupAdapter = randomAdapter(small, dir.resolve("adapter"), 13);
        long largestTensorBytes = 4L * config.hiddenSize() * config.intermediateSize();

        Map<String, Long> memory = ChildJvm.run(
                StreamedMergeProbe.class,
                "160m",
                base.toString(),
                adapter.toString(),
                dir.resolve("big-merged").toString(),
                warmupBase.toString(),
                warmupAdapter.toString(),
                dir.resolve("warmup-merged").toString());
        long peak = memory.get("peak") - memory.get("before");
        System.out.printf("merge of a %d MiB bf16 model: peak +%d MiB%n", size(base) >> 20, peak >> 20);

        assertThat(peak).isLessThan(2 * largestTensorBytes + (16L << 20));
        assertThat(dir.resolve("big-merged").resolve(ShardedSafetensors.INDEX_FILE))
                .exists(); // 32 MiB shards
        assertThat(size(dir.resolve("big-merged"))).isBetween(size(base), size(base) + (64 << 10)); // + headers
    }

    private Path base(ModelConfig config, DType dtype, long maxShardBytes) throws IOException {
        Path base = dir.resolve("base");
        try (CausalLm model =
                TinyModelGenerator.create(config, 21, TinyModelGenerator.Initialization.TEST, Device.cpu())) {
            model.save(base, dtype, maxShardBytes);
        }
        TinyTokenizerWriter.write(base);
        return base;
    }

    private static Path randomAdapter(ModelConfig config, Path directory, long seed) throws IOException {
        return randomAdapter(config, directory, LORA, seed);
    }

    /**
     * An adapter with uniform random A and B (and DoRA magnitudes in [0.5, 1.5]): a trained one, in
     * effect, written without loading the model.
     */
    private static Path randomAdapter(ModelConfig config, Path directory, LoraConfig lora, long seed)
            throws IOException {
        Files.createDirectories(directory);
        SplittableRandom random = new SplittableRandom(seed);
        List<SafetensorsWriter.Entry> entries = new ArrayList<>();
        try (CausalLm skeleton = new CausalLm(config, Device.cpu())) { // the module tree only, no weights
            for (Map.Entry<String, long[]> tensor :
                    Adapters.parameterShapes(skeleton, lora).entrySet()) {
                long[] shape = tensor.getValue();
                boolean magnitude = shape.length == 1;
                float[] values = new float[Math.toIntExact(magnitude ? shape[0] : shape[0] * shape[1])];
                for (int i = 0; i < values.length; i++) {
                    values[i] = (float) (magnitude ? 0.5 + random.nextDouble() : (random.nextDouble() * 2 - 1) * 0.1);
                }
                entries.add(SafetensorsWriter.floats(tensor.getKey(), tensor.getValue(), values, DType.F32));
            }
        }
        SafetensorsWriter.write(directory.resolve(PeftAdapter.WEIGHTS_FILE), entries, Map.of("format", "pt"));
        AdapterConfigJson.write(lora, lora.targetModules(), "base", directory.resolve(AdapterConfigJson.FILE_NAME));
        return directory;
    }

    /** Puts a NaN into the middle of one adapter tensor. */
    private static void poison(Path adapter, String tensor) throws IOException {
        Path file = adapter.resolve(PeftAdapter.WEIGHTS_FILE);
        List<SafetensorsWriter.Entry> entries = new ArrayList<>();
        try (SafetensorsReader reader = SafetensorsReader.open(file)) {
            for (String name : reader.names()) {
                float[] values = reader.readFloats(name);
                if (name.equals(tensor)) {
                    values[values.length / 2] = Float.NaN;
                }
                entries.add(SafetensorsWriter.floats(name, reader.info(name).shape(), values, DType.F32));
            }
        }
        SafetensorsWriter.write(file, entries, Map.of("format", "pt"));
    }

    private static TensorSource open(Path model) throws IOException {
        return dev.finetune.llm.checkpoint.Checkpoint.open(model).tensors();
    }

    private static short[] bf16(float[] values) {
        short[] bits = new short[values.length];
        for (int i = 0; i < values.length; i++) {
            bits[i] = FloatFormats.floatToBf16(values[i]);
        }
        return bits;
    }

    /** A bf16 tensor's stored bits. */
    private static short[] shorts(TensorSource source, String name) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        source.copyBytes(name, Channels.newChannel(bytes));
        ByteBuffer buffer = ByteBuffer.wrap(bytes.toByteArray()).order(ByteOrder.LITTLE_ENDIAN);
        short[] bits = new short[buffer.remaining() / 2];
        buffer.asShortBuffer().get(bits);
        return bits;
    }

    private static long size(Path directory) throws IOException {
        try (Stream<Path> files = Files.list(directory)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".safetensors"))
                    .mapToLong(p -> p.toFile().length())
                    .sum();
        }
    }
}
