package dev.finetune.llm.bench;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.llm.train.Method;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Training speed and memory of LoRA, QLoRA and full fine-tuning on the ~20M-parameter model of
 * {@link InferenceBenchmark}, fp32 on the CPU: step time, tokens per second, model FLOPs utilisation
 * against the machine's fp32 matmul rate, peak resident memory, and resident memory over a long run
 * of short steps (flat if every step's arrays are freed). Each method runs in a JVM of its own
 * ({@link TrainingWorkload}) so its peak memory is its own. Results go into the {@value #SECTION}
 * section of a Markdown file.
 *
 * <p>Set the engine's threads when starting the JVM ({@code -Dai.djl.pytorch.num_threads=N}); the
 * children get the same.
 */
@Command(
        name = "bench-train",
        mixinStandardHelpOptions = true,
        header = "Measures training speed and memory of LoRA, QLoRA and full fine-tuning; writes a Markdown table.",
        description = "Measures step time, tokens/s, MFU and memory of LoRA, QLoRA and full fine-tuning of a"
                + " ~20M-parameter model and writes a Markdown table.")
public final class TrainingBenchmark implements Callable<Integer> {
    static final String SECTION = "training-bench";
    /**
     * The children's heap limit: the weights live in native memory, and an unbounded heap would let
     * garbage between collections inflate the resident memory measured.
     */
    static final String CHILD_HEAP = "-Xmx512m";
    /** System properties handed to the child JVMs. */
    private static final List<String> FORWARDED = List.of(
            "ai.djl.pytorch.num_threads",
            "ai.djl.pytorch.num_interop_threads",
            "ai.djl.offline",
            "org.slf4j.simpleLogger.defaultLogLevel",
            "org.slf4j.simpleLogger.log.ai.djl.util.cuda.CudaUtils");

    @Spec
    private CommandSpec spec;

    @Option(
            names = "--out",
            paramLabel = "FILE",
            defaultValue = "docs/benchmarks.md",
            description = "Markdown file; only its training-bench section is replaced (default ${DEFAULT-VALUE}).")
    private Path out;

    @Option(names = "--batch", paramLabel = "B", description = "Sequences per step (default 4; with --shape always 1).")
    private Integer batch;

    @Option(names = "--length", paramLabel = "T", description = "Tokens per sequence (default 256; with --shape 512).")
    private Integer length;

    @Option(names = "--warmup", paramLabel = "N", description = "Unmeasured steps first (default 3; with --shape 1).")
    private Integer warmup;

    @Option(names = "--steps", paramLabel = "N", description = "Measured steps (default 10; with --shape 3).")
    private Integer steps;

    @Option(
            names = "--shape",
            paramLabel = "NAME",
            description = "Measure a real model shape instead: qwen3-0.6b, qwen3-1.7b or the path of a model's"
                    + " config.json (random weights written as sharded bf16 safetensors, loaded through the"
                    + " trainer's path), one sequence per step.")
    private String shape;

    @Option(
            names = "--methods",
            paramLabel = "LIST",
            description = "With --shape: configurations to run, comma-separated, from lora, lora+ckpt, int8+ckpt,"
                    + " nf4+ckpt (default: all four).")
    private String methods;

    @Option(
            names = "--json",
            paramLabel = "FILE",
            description = "With --shape: also write the results as JSON (per configuration: step seconds, resident"
                    + " bytes at rest, step peak, load peak, process peak).")
    private Path json;

    @Option(
            names = "--model-dir",
            paramLabel = "DIR",
            description = "With --shape: where the random checkpoint is written; kept, and reused when it is"
                    + " already there (default: a temporary directory, deleted at the end).")
    private Path modelDir;

    @Option(
            names = "--allocator",
            paramLabel = "NAME",
            defaultValue = "returning",
            description = "With --shape: the children's native allocator: returning (glibc returns freed memory at"
                    + " once, so memory figures are the engine's), default (glibc as it comes) or jemalloc (as"
                    + " the service images run it). Default ${DEFAULT-VALUE}.")
    private String allocator;

    @Option(
            names = "--long-steps",
            paramLabel = "N",
            defaultValue = "1000",
            description = "Steps of the memory run (default 1000).")
    private int longSteps;

    @Option(
            names = "--long-length",
            paramLabel = "T",
            defaultValue = "32",
            description = "Tokens per step in the memory run, one sequence (default 32).")
    private int longLength;

    public static void main(String[] args) {
        System.setProperty("ai.djl.offline", System.getProperty("ai.djl.offline", "true"));
        System.setProperty(
                "org.slf4j.simpleLogger.log.ai.djl.util.cuda.CudaUtils",
                System.getProperty("org.slf4j.simpleLogger.log.ai.djl.util.cuda.CudaUtils", "error"));
        CommandLine cli = new CommandLine(new TrainingBenchmark());
        cli.setOut(new PrintWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), true));
        System.exit(cli.execute(args));
    }

    @Override
    public Integer call() throws Exception {
        if (shape != null) {
            ModelShape resolved;
            try {
                resolved = ModelShape.resolve(shape);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
            }
            return new ShapeBenchmark(spec, resolved, methods, or(length, 512), or(warmup, 1), or(steps, 3), allocator)
                    .run(out, json, modelDir);
        }
        if (methods != null || json != null || modelDir != null) {
            throw new CommandLine.ParameterException(
                    spec.commandLine(), "--methods, --json and --model-dir go with --shape");
        }
        batch = or(batch, 4);
        length = or(length, 256);
        warmup = or(warmup, 3);
        steps = or(steps, 10);
        if (batch < 1 || length < 2 || warmup < 0 || steps < 1 || longSteps < 1 || longLength < 2) {
            throw new CommandLine.ParameterException(
                    spec.commandLine(),
                    "--batch, --steps and --long-steps must be >= 1, --length and --long-length >= 2, --warmup >= 0");
        }
        PrintWriter log = spec.commandLine().getOut();
        String date = ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'"));
        String machine = Machine.describe();
        log.println("Machine: " + machine);
        List<TrainingWorkload.Result> results = new ArrayList<>();
        for (Method method : List.of(Method.LORA, Method.QLORA, Method.FULL)) {
            long start = System.nanoTime();
            TrainingWorkload.Result result = runChild(method);
            results.add(result);
            log.printf(
                    "%s: median step %.3f s, peak RSS %d MiB (%.0f s)%n",
                    method.configName(),
                    new Samples(result.stepSeconds()).median(),
                    result.peakResident() >> 20,
                    (System.nanoTime() - start) / 1e9);
        }
        Samples matmul = measureMatmul();
        log.printf("matmul: %.1f GFLOP/s%n", TrainingBenchmarkResults.matmulFlopsPerRun() / matmul.median() / 1e9);
        TrainingBenchmarkResults report =
                new TrainingBenchmarkResults(date, machine, InferenceBenchmark.modelConfig(), warmup, results, matmul);
        String markdown = report.toMarkdown();
        new MarkdownSection(SECTION).write(out, "Benchmarks", markdown);
        log.println();
        log.println(markdown);
        log.println("Wrote the " + SECTION + " section of " + out.toAbsolutePath());
        return 0;
    }

    private static int or(Integer value, int otherwise) {
        return value == null ? otherwise : value;
    }

    /** Runs {@link TrainingWorkload} for {@code method} in a new JVM with this JVM's classpath and engine settings. */
    private TrainingWorkload.Result runChild(Method method) throws IOException, InterruptedException {
        return runChild(
                method.configName(),
                List.of(CHILD_HEAP),
                Map.of(),
                TrainingWorkload.class,
                TrainingWorkload.Result.class,
                List.of(
                        method.configName(),
                        Integer.toString(batch),
                        Integer.toString(length),
                        Integer.toString(warmup),
                        Integer.toString(steps),
                        Integer.toString(longSteps),
                        Integer.toString(longLength)));
    }

    /**
     * Runs {@code workload}'s main in a new JVM with this JVM's classpath and engine settings, the
     * given JVM options and environment, and {@code args} followed by a result file; returns the JSON
     * the child wrote there.
     */
    static <T> T runChild(
            String name,
            List<String> jvmOptions,
            Map<String, String> environment,
            Class<?> workload,
            Class<T> resultType,
            List<String> args)
            throws IOException, InterruptedException {
        Path result = Files.createTempFile("training-bench-" + name.replaceAll("[^a-z0-9.-]", "_"), ".json");
        try {
            List<String> command = new ArrayList<>();
            command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            command.addAll(jvmOptions);
            for (String property : FORWARDED) {
                String value = System.getProperty(property);
                if (value != null) {
                    command.add("-D" + property + "=" + value);
                }
            }
            command.addAll(List.of("-cp", System.getProperty("java.class.path"), workload.getName()));
            command.addAll(args);
            command.add(result.toString());
            ProcessBuilder builder = new ProcessBuilder(command).inheritIO();
            // The allocator is the caller's choice alone, not one this process was started with (bin/llm
            // preloads jemalloc).
            builder.environment().remove("LD_PRELOAD");
            builder.environment().remove("MALLOC_CONF");
            builder.environment().putAll(environment);
            int exit = builder.start().waitFor();
            if (exit != 0) {
                throw new IllegalStateException("the " + name + " workload failed with exit code " + exit);
            }
            return new ObjectMapper().readValue(result.toFile(), resultType);
        } finally {
            Files.deleteIfExists(result);
        }
    }

    /** The machine's fp32 matmul rate through DJL, measured as {@link InferenceBenchmark} measures it. */
    @SuppressWarnings("try")
    private static Samples measureMatmul() {
        int n = InferenceBenchmark.MATMUL_SIZE;
        try (NDManager manager = NDManager.newBaseManager(Device.cpu())) {
            NDArray a = manager.randomNormal(new Shape(n, n)); // fp32
            NDArray b = manager.randomNormal(new Shape(n, n));
            return Samples.measure(2, 5, () -> {
                try (NDScope ignored = new NDScope()) {
                    NDArray c = null;
                    for (int i = 0; i < InferenceBenchmark.MATMULS_PER_RUN; i++) {
                        c = a.matMul(b); // [N, N] x [N, N]
                    }
                    c.getFloat(0, 0);
                }
            });
        }
    }
}
