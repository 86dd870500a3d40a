package dev.finetune.llm.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.llm.checkpoint.ModelConfig;
import dev.finetune.llm.checkpoint.ModelType;
import dev.finetune.llm.checkpoint.ShardedSafetensors;
import dev.finetune.llm.memory.ModelSize;
import dev.finetune.llm.memory.NativeAllocator;
import dev.finetune.llm.tiny.TinyModelGenerator;
import dev.finetune.llm.tiny.TinyModels;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code llm bench-train --shape} end to end on a shape given as a config.json (the presets are the
 * same path at 0.6B / 1.7B parameters, too slow for a build): the checkpoint is written as bf16, each
 * configuration loads it in a JVM of its own, and the figures land in JSON and in the shape's own
 * Markdown section.
 */
class ShapeBenchmarkTest {
    @TempDir
    Path dir;

    /**
     * Decoder linears of 170 MB in fp32 (hidden 768, 6 layers, MLP 2048): the quantised storages must
     * show at rest, nf4 under int8 under fp32, each by far more than the process's noise.
     */
    @Test
    void everyConfigurationIsMeasuredInItsOwnJvmAndQuantisedBasesRestSmaller() throws Exception {
        ModelConfig config = TinyModels.config(ModelType.QWEN3).toBuilder()
                .vocabSize(2048)
                .hiddenSize(768)
                .intermediateSize(2048)
                .numHiddenLayers(6)
                .numAttentionHeads(12)
                .numKeyValueHeads(4)
                .headDim(64)
                .build();
        Path described = dir.resolve("described");
        TinyModelGenerator.write(config, 1, described); // only its config.json is used
        Path model = dir.resolve("model");
        Path markdown = dir.resolve("benchmarks.md");
        Path json = dir.resolve("results.json");
        Files.writeString(markdown, "# Benchmarks\n\nkept text\n");

        StringWriter output = new StringWriter();
        int exit = cli(output)
                .execute(
                        "--shape", described.resolve("config.json").toString(),
                        "--methods", "lora,lora+ckpt,int8+ckpt,nf4+ckpt",
                        "--length", "32",
                        "--steps", "2",
                        "--model-dir", model.toString(),
                        "--out", markdown.toString(),
                        "--json", json.toString());

        assertThat(exit).as(output.toString()).isZero();
        assertThat(model.resolve("config.json")).exists();
        assertThat(Files.exists(model.resolve("model.safetensors"))
                        || Files.exists(model.resolve(ShardedSafetensors.INDEX_FILE)))
                .isTrue();
        JsonNode report = new ObjectMapper().readTree(json.toFile());
        assertThat(report.get("parameters").asLong())
                .isEqualTo(ModelSize.of(config).parameters());
        List<String> names = new ArrayList<>();
        for (JsonNode result : report.get("results")) {
            String name = result.get("configuration").asText();
            names.add(name);
            assertThat(result.get("tokens").asInt()).isEqualTo(32);
            assertThat(result.get("stepSeconds")).as(name).hasSize(2);
            result.get("stepSeconds")
                    .forEach(s -> assertThat(s.asDouble()).as(name).isPositive());
            long resting = result.get("restingBytes").asLong();
            assertThat(result.get("loadedBytes").asLong())
                    .as(name)
                    .isGreaterThan(result.get("residentBeforeLoad").asLong());
            assertThat(result.get("stepPeakBytes").asLong()).as(name).isGreaterThanOrEqualTo(resting - (8L << 20));
            assertThat(result.get("processPeakBytes").asLong())
                    .as(name)
                    .isGreaterThanOrEqualTo(result.get("loadPeakBytes").asLong());
        }
        assertThat(names).containsExactly("lora", "lora+ckpt", "int8+ckpt", "nf4+ckpt");
        long fp32 = resting(report, 0);
        long int8 = resting(report, 2);
        long nf4 = resting(report, 3);
        long linearFp32 = 4 * ModelSize.of(config).linearWeights(); // 170 MB
        assertThat(fp32 - int8)
                .as("int8 saves about 3/4 of the linears: %s", report)
                .isGreaterThan(linearFp32 / 2);
        assertThat(int8 - nf4)
                .as("nf4 saves about half of int8's linears: %s", report)
                .isGreaterThan(linearFp32 / 16);

        String written = Files.readString(markdown);
        assertThat(written).startsWith("# Benchmarks\n\nkept text\n");
        assertThat(written).contains("<!-- training-shape-bench-");
        for (String name : names) {
            assertThat(written).containsPattern("\\| " + Pattern.quote(name) + " \\| [0-9.]+ s \\(");
        }
        assertThat(written).contains("| lora | ").containsPattern("\\| 1\\.00 \\| 1\\.00 \\|\\n");
    }

    @Test
    void anUnknownConfigurationOrShapeIsRefusedNamingIt() {
        StringWriter errors = new StringWriter();
        CommandLine cli = cli(new StringWriter());
        cli.setErr(new PrintWriter(errors, true));

        assertThat(cli.execute("--shape", "qwen3-0.6b", "--methods", "lora,fp8"))
                .isEqualTo(2);
        assertThat(errors.toString()).contains("\"fp8\"").contains("lora, lora+ckpt, int8+ckpt, nf4+ckpt");

        assertThat(cli.execute("--shape", "llama-70b")).isEqualTo(2);
        assertThat(errors.toString()).contains("\"llama-70b\"").contains("qwen3-0.6b, qwen3-1.7b");

        assertThat(cli.execute("--json", "x.json")).isEqualTo(2);
        assertThat(errors.toString()).contains("--methods, --json and --model-dir go with --shape");
    }

    /** The model cards give 0.44B and 1.4B non-embedding parameters (0.6B and 1.7B in all, tied). */
    @Test
    void thePresetsAreQwen3sPublishedShapes() {
        assertThat(nonEmbedding(ModelShape.resolve("qwen3-0.6b")) / 1e9).isCloseTo(0.44, within(0.005));
        assertThat(nonEmbedding(ModelShape.resolve("Qwen3-1.7B")) / 1e9).isCloseTo(1.4, within(0.05));
        assertThat(ModelShape.QWEN3_1_7B.config().tieWordEmbeddings()).isTrue();
    }

    private static long nonEmbedding(ModelShape shape) {
        ModelConfig config = shape.config();
        return ModelSize.of(config).parameters() - (long) config.vocabSize() * config.hiddenSize();
    }

    private static long resting(JsonNode report, int index) {
        return report.get("results").get(index).get("restingBytes").asLong();
    }

    /** The allocators' tables of one shape live in sections of their own, so measuring one keeps the other. */
    @Test
    void eachAllocatorWritesASectionOfItsOwn() {
        assertThat(ShapeBenchmarkResults.section("qwen3-0.6b", ShapeBenchmark.Allocator.RETURNING))
                .isEqualTo("training-shape-bench-qwen3-0.6b");
        assertThat(ShapeBenchmarkResults.section("qwen3-0.6b", ShapeBenchmark.Allocator.DEFAULT))
                .isEqualTo("training-shape-bench-qwen3-0.6b-default");
        assertThat(ShapeBenchmark.Allocator.parse(" Default ")).isEqualTo(ShapeBenchmark.Allocator.DEFAULT);
        assertThat(ShapeBenchmark.Allocator.DEFAULT.environment()).isEmpty();
        assertThat(ShapeBenchmark.Allocator.RETURNING.environment()).containsEntry("MALLOC_MMAP_THRESHOLD_", "131072");
        assertThat(ShapeBenchmarkResults.section("qwen3-1.7b", ShapeBenchmark.Allocator.JEMALLOC))
                .isEqualTo("training-shape-bench-qwen3-1.7b-jemalloc");
        NativeAllocator.installed().ifPresent(library -> assertThat(ShapeBenchmark.Allocator.JEMALLOC.environment())
                .as("preloaded by the path it was found at")
                .isEqualTo(NativeAllocator.environment(library.toString())));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> ShapeBenchmark.Allocator.parse("tcmalloc"))
                .hasMessage("--allocator must be returning, default or jemalloc, got \"tcmalloc\"");
    }

    private static CommandLine cli(StringWriter output) {
        CommandLine cli = new CommandLine(new TrainingBenchmark());
        cli.setOut(new PrintWriter(output, true));
        return cli;
    }
}
