package dev.finetune.llm.bench;

import ai.djl.Device;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.finetune.llm.checkpoint.DType;
import dev.finetune.llm.checkpoint.ModelConfig;
import dev.finetune.llm.checkpoint.ModelConfigJson;
import dev.finetune.llm.checkpoint.ShardedSafetensors;
import dev.finetune.llm.memory.ModelSize;
import dev.finetune.llm.memory.NativeAllocator;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.tiny.TinyModelGenerator;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.commons.io.file.PathUtils;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code llm bench-train --shape}: LoRA on a real model shape under several storages and with or
 * without activation checkpointing, each configuration in a JVM of its own ({@link ShapeWorkload}).
 * The random checkpoint is written once, as sharded bf16 safetensors like a published one, and every
 * child loads it through the trainer's path.
 */
final class ShapeBenchmark {
    /**
     * The children's memory options: a fixed heap, touched up front so it adds a constant to every
     * figure (the weights are native memory), and no cap on direct buffers below the machine's memory
     * (DJL stages arrays made from Java data, such as dropout masks, in direct buffers that are
     * freed when collected).
     */
    static final List<String> HEAP =
            List.of("-Xms256m", "-Xmx256m", "-XX:+AlwaysPreTouch", "-XX:MaxDirectMemorySize=64g");
    /**
     * The children's native allocator. {@code returning} tells glibc to unmap every freed block over
     * 128 KiB, so resident sizes fall back as soon as arrays are freed and the memory columns are the
     * engine's own; {@code default} is glibc as it comes, which keeps freed blocks for reuse; {@code
     * jemalloc} is what the service images run ({@link NativeAllocator}). Under {@code returning} each
     * quantised layer's dequantisation maps and faults in fresh pages on every step, which made a
     * 4-layer qwen3-0.6b nf4 step 1.7x slower (9.9 s against 5.8 s).
     */
    public enum Allocator {
        RETURNING("glibc told to return freed memory at once"),
        DEFAULT("glibc's default allocator"),
        JEMALLOC("jemalloc preloaded with MALLOC_CONF=" + NativeAllocator.CONFIG + ", as the service images run");

        final String description;

        Allocator(String description) {
            this.description = description;
        }

        /** What a child's environment needs; jemalloc is preloaded from where it was found installed. */
        Map<String, String> environment() {
            return switch (this) {
                case RETURNING -> Map.of("MALLOC_MMAP_THRESHOLD_", "131072", "MALLOC_ARENA_MAX", "2");
                case DEFAULT -> Map.of();
                case JEMALLOC -> NativeAllocator.environment(NativeAllocator.installed()
                        .orElseThrow(() -> new IllegalStateException(NativeAllocator.LIBRARY + " is not installed"))
                        .toString());
            };
        }

        String cliName() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }

        static Allocator parse(String name) {
            for (Allocator allocator : values()) {
                if (allocator.name().equalsIgnoreCase(name.strip())) {
                    return allocator;
                }
            }
            throw new IllegalArgumentException(
                    "--allocator must be returning, default or jemalloc, got \"" + name + "\"");
        }
    }

    /** Shards of at most 512 MiB, so the loader crosses shard boundaries as with real checkpoints. */
    static final long SHARD_BYTES = 512L << 20;

    private final CommandSpec spec;
    private final ModelShape shape;
    private final List<ShapeConfiguration> configurations;
    private final int tokens;
    private final int warmup;
    private final int steps;
    private final Allocator allocator;

    ShapeBenchmark(
            CommandSpec spec, ModelShape shape, String methods, int tokens, int warmup, int steps, String allocator) {
        this.spec = spec;
        try {
            this.allocator = Allocator.parse(allocator);
            if (this.allocator == Allocator.JEMALLOC
                    && NativeAllocator.installed().isEmpty()) {
                throw new IllegalArgumentException("--allocator jemalloc: " + NativeAllocator.LIBRARY
                        + " is not installed where the dynamic linker looks (Debian, Ubuntu: apt-get install"
                        + " libjemalloc2)");
            }
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        this.shape = shape;
        try {
            this.configurations =
                    methods != null ? ShapeConfiguration.parseList(methods) : List.of(ShapeConfiguration.values());
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        if (tokens < 2 || warmup < 1 || steps < 1) {
            throw new CommandLine.ParameterException(
                    spec.commandLine(),
                    "with --shape, --length must be >= 2 and --warmup and --steps >= 1 (the first step creates the"
                            + " optimizer state, so it is never measured as a step at rest)");
        }
        this.tokens = tokens;
        this.warmup = warmup;
        this.steps = steps;
    }

    int run(Path markdown, Path json, Path modelDir) throws IOException, InterruptedException {
        PrintWriter log = spec.commandLine().getOut();
        String date = ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'"));
        String machine = Machine.describe();
        log.println("Machine: " + machine);
        ModelConfig config = shape.config();
        Path checkpoint = modelDir != null ? modelDir : Files.createTempDirectory("bench-shape");
        try {
            long parameters = writeCheckpoint(config, checkpoint, log);
            List<ShapeWorkload.Result> results = new ArrayList<>();
            for (ShapeConfiguration configuration : configurations) {
                long start = System.nanoTime();
                ShapeWorkload.Result result = TrainingBenchmark.runChild(
                        configuration.cliName(),
                        Stream.concat(HEAP.stream(), Stream.of("-XX:+UseSerialGC"))
                                .toList(),
                        allocator.environment(),
                        ShapeWorkload.class,
                        ShapeWorkload.Result.class,
                        List.of(
                                checkpoint.toString(),
                                configuration.cliName(),
                                Integer.toString(tokens),
                                Integer.toString(warmup),
                                Integer.toString(steps)));
                results.add(result);
                log.printf(
                        "%s: median step %.2f s, at rest %d MiB, step peak %d MiB, load peak %d MiB (%.0f s)%n",
                        configuration.cliName(),
                        new Samples(result.stepSeconds()).median(),
                        result.restingBytes() >> 20,
                        result.stepPeakBytes() >> 20,
                        result.loadPeakBytes() >> 20,
                        (System.nanoTime() - start) / 1e9);
            }
            ShapeBenchmarkResults report = new ShapeBenchmarkResults(
                    date,
                    machine,
                    shape.name(),
                    config,
                    parameters,
                    sizeOf(checkpoint),
                    shards(checkpoint),
                    warmup,
                    String.join(" ", HEAP),
                    allocator,
                    results);
            if (json != null) {
                new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(json.toFile(), report);
                log.println("Wrote " + json.toAbsolutePath());
            }
            String section = report.toMarkdown();
            new MarkdownSection(ShapeBenchmarkResults.section(shape.name(), allocator))
                    .write(markdown, "Benchmarks", section);
            log.println();
            log.println(section);
            log.println("Wrote the " + ShapeBenchmarkResults.section(shape.name(), allocator) + " section of "
                    + markdown.toAbsolutePath());
            return 0;
        } finally {
            if (modelDir == null) {
                PathUtils.deleteDirectory(checkpoint);
            }
        }
    }

    /** Writes the random bf16 checkpoint unless {@code directory} already holds one; its parameter count. */
    private long writeCheckpoint(ModelConfig config, Path directory, PrintWriter log) throws IOException {
        long start = System.nanoTime();
        Files.createDirectories(directory);
        boolean present = Files.exists(directory.resolve("config.json"))
                && (Files.exists(directory.resolve(ShardedSafetensors.INDEX_FILE))
                        || Files.exists(directory.resolve("model.safetensors")));
        if (present) {
            ModelConfig existing = ModelConfigJson.read(directory.resolve("config.json"));
            if (!existing.equals(config)) {
                throw new CommandLine.ParameterException(
                        spec.commandLine(),
                        "--model-dir " + directory + " holds another model; use an empty"
                                + " directory or the one written for --shape " + shape.name());
            }
            log.println("Reusing the checkpoint in " + directory);
            return parameters(config);
        }
        try (CausalLm model = TinyModelGenerator.create(
                config, 7, TinyModelGenerator.Initialization.huggingFace(config), Device.cpu())) {
            model.save(directory, DType.BF16, SHARD_BYTES);
        }
        log.printf(
                "Wrote %s (%,d parameters, bf16) in %.0f s%n",
                directory, parameters(config), (System.nanoTime() - start) / 1e9);
        return parameters(config);
    }

    private static long parameters(ModelConfig config) {
        return ModelSize.of(config).parameters();
    }

    private static long sizeOf(Path directory) throws IOException {
        try (Stream<Path> files = Files.list(directory)) {
            return files.filter(f -> f.toString().endsWith(".safetensors"))
                    .mapToLong(f -> f.toFile().length())
                    .sum();
        }
    }

    private static int shards(Path directory) throws IOException {
        try (Stream<Path> files = Files.list(directory)) {
            return (int)
                    files.filter(f -> f.toString().endsWith(".safetensors")).count();
        }
    }
}
