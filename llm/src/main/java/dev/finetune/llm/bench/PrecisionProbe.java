package dev.finetune.llm.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.File;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.commons.io.file.PathUtils;

/**
 * Makes one half-precision array in a JVM of its own, because with DJL 0.35.1 (and 0.36.0) doing so
 * for {@code BFLOAT16} kills the JVM: the PyTorch JNI library maps DJL's data types to torch's with a
 * switch that has no bf16 case and whose default is a bare {@code throw;}, so C++ calls
 * {@code std::terminate} ("terminate called without an active exception") and the process ends with
 * SIGABRT, exit status 134. No Java exception is thrown, so nothing in the calling JVM could catch it.
 *
 * <p>An operation is a way in ({@link Way#CAST}: {@code toType} from fp32; {@link Way#CREATE}:
 * {@code manager.create(buffer, shape, type)} from raw bits) and a half-precision type. The child
 * prints {@value #BEFORE} before touching the engine's half-precision path and {@value #AFTER}
 * followed by the values read back as fp32 once it survived, so a caller can tell where it died.
 */
public final class PrecisionProbe {
    /** 128 + SIGABRT (6): how the OS reports a process that {@code std::terminate} ended. */
    public static final int ABORTED = 134;

    static final String BEFORE = "probe: calling";
    static final String AFTER = "probe: survived";
    /** Exactly representable in fp16 and bf16 (3.140625 = 0x4049 in bf16, 0x4248 in fp16). */
    static final float[] VALUES = {1.5f, -2.25f, 3.140625f};

    private static final short[] BFLOAT16_BITS = {0x3FC0, (short) 0xC010, 0x4049};
    private static final short[] FLOAT16_BITS = {0x3E00, (short) 0xC080, 0x4248};
    /** Bounds one child: engine start-up takes 1-3 s; a hung child must not hang a test run. */
    private static final long CHILD_TIMEOUT_SECONDS = 120;

    /** How the half-precision array comes to be. */
    public enum Way {
        CAST,
        CREATE
    }

    /** What a child JVM did: its exit status and everything it wrote. */
    public record Outcome(int exitStatus, String stdout, String stderr) {
        /** The child got past the engine call: the type is usable. */
        public boolean survived() {
            return exitStatus == 0 && stdout.contains(AFTER);
        }

        /** The last line the child wrote to standard error, or "" (for a one-line report). */
        public String lastErrorLine() {
            String[] lines = stderr.strip().split("\n");
            return lines[lines.length - 1].strip();
        }
    }

    private PrecisionProbe() {}

    /** {@code PrecisionProbe cast|create bfloat16|float16}: makes the array in this JVM. */
    public static void main(String[] args) {
        if (args.length != 2) {
            System.err.println("usage: PrecisionProbe cast|create bfloat16|float16");
            System.exit(2);
        }
        Way way = Way.valueOf(args[0].toUpperCase(Locale.ROOT));
        DataType type = halfPrecision(args[1]);
        try (NDManager manager = NDManager.newBaseManager()) {
            manager.create(0f).getFloat(); // engine loaded before the marker, so a death after it is the call's
            System.out.println(BEFORE + " " + way + " " + type);
            System.out.flush();
            NDArray half = way == Way.CAST ? manager.create(VALUES).toType(type, false) : fromBits(manager, type);
            float[] back = half.toType(DataType.FLOAT32, false).toFloatArray();
            System.out.println(AFTER + " " + way + " " + half.getDataType() + " " + Arrays.toString(back));
        }
    }

    /**
     * Runs {@link #main} in a new JVM with this JVM's classpath, offline, on one engine thread, in a
     * scratch directory (a JVM that aborts may leave a crash log in its working directory).
     */
    public static Outcome inChildJvm(Way way, DataType type) throws IOException, InterruptedException {
        Path work = Files.createTempDirectory("precision-probe");
        try {
            List<String> command = new ArrayList<>();
            command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            command.addAll(List.of(
                    "-Xmx128m",
                    "-XX:-CreateCoredumpOnCrash",
                    "-Dai.djl.offline=true",
                    "-Dai.djl.pytorch.num_threads=1",
                    "-Dai.djl.pytorch.num_interop_threads=1",
                    "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                    "-Dorg.slf4j.simpleLogger.log.ai.djl.util.cuda.CudaUtils=error",
                    "-cp",
                    absoluteClassPath(),
                    PrecisionProbe.class.getName(),
                    way.name().toLowerCase(Locale.ROOT),
                    type.name().toLowerCase(Locale.ROOT)));
            Path stdout = work.resolve("stdout");
            Path stderr = work.resolve("stderr");
            Process process = new ProcessBuilder(command)
                    .directory(work.toFile())
                    .redirectOutput(stdout.toFile())
                    .redirectError(stderr.toFile())
                    .start();
            if (!process.waitFor(CHILD_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
                throw new IOException("the precision probe (" + way + " " + type + ") did not finish in "
                        + CHILD_TIMEOUT_SECONDS + " s");
            }
            return new Outcome(
                    process.exitValue(),
                    Files.readString(stdout, StandardCharsets.UTF_8),
                    Files.readString(stderr, StandardCharsets.UTF_8));
        } finally {
            PathUtils.deleteDirectory(work);
        }
    }

    /** This JVM's classpath with every entry absolute: the child runs in another directory. */
    private static String absoluteClassPath() {
        return Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .filter(entry -> !entry.isEmpty())
                .map(entry -> Path.of(entry).toAbsolutePath().toString())
                .collect(Collectors.joining(File.pathSeparator));
    }

    private static DataType halfPrecision(String name) {
        DataType type = DataType.valueOf(name.toUpperCase(Locale.ROOT));
        if (type != DataType.BFLOAT16 && type != DataType.FLOAT16) {
            throw new IllegalArgumentException("the probe makes bfloat16 or float16 arrays, got " + name);
        }
        return type;
    }

    /** {@link #VALUES} from their 16-bit patterns, as a checkpoint loader would create them. */
    private static NDArray fromBits(NDManager manager, DataType type) {
        short[] bits = type == DataType.BFLOAT16 ? BFLOAT16_BITS : FLOAT16_BITS;
        ByteBuffer buffer = ByteBuffer.allocateDirect(2 * bits.length).order(ByteOrder.nativeOrder());
        for (short b : bits) {
            buffer.putShort(b);
        }
        buffer.rewind();
        return manager.create(buffer, new Shape(bits.length), type);
    }
}
