package dev.finetune.llm.bench;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.Locale;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * What each floating-point type can do in this engine on this CPU: whether an array of it can be
 * made (by casting from fp32 and from raw bits, each in a child JVM through {@link PrecisionProbe},
 * since bf16 aborts the JVM) and how fast a [1024 x 1024] x [1024 x 1024] matmul runs in it, all
 * types measured in this one process. Results go into the {@value #SECTION} section of a Markdown
 * file.
 */
@Command(
        name = "bench-precision",
        mixinStandardHelpOptions = true,
        header = "Probes fp32, fp16 and bf16 in the engine and measures their matmul rate; writes a Markdown table.",
        description = "Probes which floating-point types the engine can create and cast (bf16 in a child JVM,"
                + " since it may abort), measures fp32 and fp16 matmul GFLOP/s and writes a Markdown table.")
public final class PrecisionBenchmark implements Callable<Integer> {
    static final String SECTION = "precision-bench";
    static final int SIZE = InferenceBenchmark.MATMUL_SIZE;
    /** 2 N^3 multiply-adds counted as FLOPs, as for the inference benchmark's matmul rate. */
    static final double FLOP_PER_MATMUL = 2.0 * SIZE * SIZE * SIZE;
    /** A run lasts at least this long (clock resolution, thread wake-up) unless one product takes longer. */
    private static final double RUN_SECONDS = 0.1;
    /** A type whose single product takes longer than this (fp16 elsewhere: ~3 s) gets 3 runs, 1 warm-up. */
    private static final double SLOW_PRODUCT_SECONDS = 1.0;

    /** One type's matmul rate and its error against fp32 on the same inputs. */
    record MatmulRate(Samples runs, int productsPerRun, double relativeError) {
        double gflops() {
            return FLOP_PER_MATMUL * productsPerRun / runs.median() / 1e9;
        }

        /** Median and range in GFLOP/s. */
        String rate() {
            double flop = FLOP_PER_MATMUL * productsPerRun;
            return String.format(
                    Locale.ROOT,
                    "%.1f GFLOP/s (%.1f .. %.1f)",
                    flop / runs.median() / 1e9,
                    flop / runs.slowest() / 1e9,
                    flop / runs.fastest() / 1e9);
        }

        String runsByProducts() {
            return runs.seconds().length + " x " + productsPerRun;
        }
    }

    @Spec
    private CommandSpec spec;

    @Option(
            names = "--out",
            paramLabel = "FILE",
            defaultValue = "docs/benchmarks.md",
            description = "Markdown file; only its precision-bench section is replaced (default ${DEFAULT-VALUE}).")
    private Path out;

    @Option(
            names = "--repeats",
            paramLabel = "N",
            defaultValue = "7",
            description = "Measured runs of each type's matmul; the median is reported.")
    private int repeats;

    public static void main(String[] args) {
        System.setProperty("ai.djl.offline", System.getProperty("ai.djl.offline", "true"));
        System.setProperty(
                "org.slf4j.simpleLogger.log.ai.djl.util.cuda.CudaUtils",
                System.getProperty("org.slf4j.simpleLogger.log.ai.djl.util.cuda.CudaUtils", "error"));
        CommandLine cli = new CommandLine(new PrecisionBenchmark());
        cli.setOut(new PrintWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), true));
        System.exit(cli.execute(args));
    }

    @Override
    public Integer call() throws Exception {
        if (repeats < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--repeats must be >= 1, got " + repeats);
        }
        PrintWriter log = spec.commandLine().getOut();
        String date = ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'"));
        StringBuilder md = new StringBuilder("## Precision on this CPU (`llm bench-precision`)\n\n");
        md.append("Measured ")
                .append(date)
                .append(" on: ")
                .append(Machine.describe())
                .append("; CPU flags: ");
        md.append(halfPrecisionFlags()).append(".\n\n");
        md.append("| Type | Cast from fp32 | Create from raw bits | Matmul [")
                .append(SIZE)
                .append(" x ")
                .append(SIZE)
                .append("] x [")
                .append(SIZE)
                .append(" x ")
                .append(SIZE)
                .append("], median (slowest .. fastest) | Runs x products | Error vs fp32 |\n")
                .append("|---|---|---|---:|---:|---:|\n");
        try (NDManager manager = NDManager.newBaseManager(Device.cpu())) {
            NDArray a = manager.randomNormal(new Shape(SIZE, SIZE));
            NDArray b = manager.randomNormal(new Shape(SIZE, SIZE));
            NDArray exact = a.matMul(b); // [N, N] x [N, N], the fp32 reference
            MatmulRate fp32 = measureMatmul(a, b, exact, DataType.FLOAT32);
            log.printf(Locale.ROOT, "fp32 matmul: %.1f GFLOP/s%n", fp32.gflops());
            md.append("| fp32 | (native) | (native) | ").append(row(fp32)).append(" |\n");
            for (DataType type : new DataType[] {DataType.FLOAT16, DataType.BFLOAT16}) {
                PrecisionProbe.Outcome cast = PrecisionProbe.inChildJvm(PrecisionProbe.Way.CAST, type);
                PrecisionProbe.Outcome create = PrecisionProbe.inChildJvm(PrecisionProbe.Way.CREATE, type);
                log.printf("%s: cast %s, create %s%n", type, describe(cast), describe(create));
                String matmul = "not measurable: no array of this type can be made | | ";
                if (cast.survived()) {
                    MatmulRate rate = measureMatmul(a, b, exact, type);
                    log.printf(Locale.ROOT, "%s matmul: %.1f GFLOP/s%n", type, rate.gflops());
                    matmul = row(rate);
                }
                md.append("| ")
                        .append(type == DataType.FLOAT16 ? "fp16" : "bf16")
                        .append(" | ")
                        .append(describe(cast))
                        .append(" | ")
                        .append(describe(create))
                        .append(" | ")
                        .append(matmul)
                        .append(" |\n");
            }
        }
        md.append("\nRuns x products per run: each type's second product is timed to choose how many products make a"
                        + " run of at least ")
                .append(RUN_SECONDS)
                .append(" s (at most ")
                .append(InferenceBenchmark.MATMULS_PER_RUN)
                .append("), then 2 warm-up runs and the measured runs (1 and 3 for a type slower than ")
                .append(SLOW_PRODUCT_SECONDS)
                .append(" s a product). Error: Frobenius norm of (product in the type, read back as fp32) minus"
                        + " (fp32 product of the unrounded fp32 inputs), over the norm of the fp32 product; the"
                        + " inputs are N(0, 1). Each probe is a child JVM (`PrecisionProbe`) that makes"
                        + " [1.5, -2.25, 3.140625] in the type and reads it back as fp32.\n\n")
                .append("Reproduce: `java -Dai.djl.pytorch.num_threads=2 -Dai.djl.pytorch.num_interop_threads=1"
                        + " -cp <llm classpath> dev.finetune.llm.bench.PrecisionBenchmark [--out FILE]`"
                        + " (or `llm bench-precision`).\n");
        new MarkdownSection(SECTION).write(out, "Benchmarks", md.toString());
        log.println();
        log.println(md);
        log.println("Wrote the " + SECTION + " section of " + out.toAbsolutePath());
        return 0;
    }

    private static String row(MatmulRate rate) {
        return rate.rate() + " | " + rate.runsByProducts() + " | "
                + String.format(Locale.ROOT, "%.1e", rate.relativeError());
    }

    /** "works (exact)", or how the child ended: aborted or failed, exit status, last line of standard error. */
    static String describe(PrecisionProbe.Outcome outcome) {
        if (outcome.survived()) {
            String expected = Arrays.toString(PrecisionProbe.VALUES);
            return outcome.stdout().contains(expected) ? "works (exact)" : "works, values changed";
        }
        String how = outcome.exitStatus() == PrecisionProbe.ABORTED ? "**JVM aborted**" : "**failed**";
        return how + " (exit " + outcome.exitStatus() + "): `" + outcome.lastErrorLine() + "`";
    }

    /** {@code a b} in {@code type}: the rate, and the error of its product against {@code exact}. */
    private MatmulRate measureMatmul(NDArray a, NDArray b, NDArray exact, DataType type) {
        try (NDScope ignored = new NDScope()) {
            NDArray x = a.toType(type, false);
            NDArray y = b.toType(type, false);
            NDArray product = x.matMul(y); // [N, N] x [N, N]; the first call also picks and prepares kernels
            NDArray error = product.toType(DataType.FLOAT32, false).sub(exact);
            double relativeError = error.norm().getFloat() / exact.norm().getFloat();
            long start = System.nanoTime();
            x.matMul(y).get(0, 0).toType(DataType.FLOAT32, false).getFloat(); // [N, N] x [N, N], timed
            double first = (System.nanoTime() - start) / 1e9;
            boolean slow = first > SLOW_PRODUCT_SECONDS;
            int perRun =
                    (int) Math.max(1, Math.min(InferenceBenchmark.MATMULS_PER_RUN, Math.ceil(RUN_SECONDS / first)));
            Samples runs = Samples.measure(slow ? 1 : 2, slow ? 3 : repeats, () -> {
                try (NDScope run = new NDScope()) {
                    NDArray c = null;
                    for (int i = 0; i < perRun; i++) {
                        c = x.matMul(y); // [N, N] x [N, N]
                    }
                    c.get(0, 0).toType(DataType.FLOAT32, false).getFloat(); // waits for the last product
                }
            });
            return new MatmulRate(runs, perRun, relativeError);
        }
    }

    /** The CPU's half-precision instruction sets (what bf16 would run on), from /proc/cpuinfo. */
    private static String halfPrecisionFlags() {
        Path cpuinfo = Path.of("/proc/cpuinfo");
        try {
            TreeSet<String> flags = new TreeSet<>();
            for (String line : Files.readAllLines(cpuinfo)) {
                if (line.startsWith("flags")) {
                    for (String flag :
                            line.substring(line.indexOf(':') + 1).strip().split(" ")) {
                        if (flag.contains("bf16") || flag.contains("fp16") || flag.startsWith("amx")) {
                            flags.add(flag);
                        }
                    }
                }
            }
            return flags.isEmpty() ? "no bf16/fp16 instructions" : String.join(", ", flags);
        } catch (IOException e) {
            return "unknown (" + cpuinfo + " not readable)"; // only decoration for the report
        }
    }
}
