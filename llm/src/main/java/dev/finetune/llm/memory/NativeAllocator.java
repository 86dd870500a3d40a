package dev.finetune.llm.memory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * The native allocator the services that run models use: jemalloc, preloaded, with every size class
 * served from the arenas ({@code oversize_threshold:0}) and freed pages returned by a background
 * thread after jemalloc's decay time ({@code background_thread:true}).
 *
 * <p>Why (docs/benchmarks.md, "Training at real size"): the engine frees and re-allocates large
 * blocks all through a step (each quantised layer's dequantised weight, each recomputed layer's
 * activations). glibc's default allocator keeps them, so a qwen3-0.6b nf4 + checkpointing step
 * peaked at 2,431 MiB against the 1,467 MiB the engine holds; telling glibc to unmap them makes every
 * block fault in fresh pages and the step 1.8x slower. jemalloc as configured here reuses them and
 * still ends near the engine's footprint: 1,517 MiB at 14.1 s a step, against 16.4 s under glibc's
 * defaults, measured in one run. jemalloc's default, a separate arena that unmaps blocks over 8 MiB at
 * once, took 20.0 s.
 *
 * <p>The service images install and preload it (deploy/docker/Dockerfile); {@code bin/finetune run}
 * preloads it when the machine has it.
 */
public final class NativeAllocator {
    /** The library's soname, as Debian's and Ubuntu's libjemalloc2 install it. */
    public static final String LIBRARY = "libjemalloc.so.2";
    /** jemalloc's options: see the class comment. */
    public static final String CONFIG = "oversize_threshold:0,background_thread:true";

    /** Where the dynamic linker looks by default on the distributions the images and CI use. */
    private static final List<String> LIBRARY_DIRECTORIES = List.of(
            "/usr/lib/x86_64-linux-gnu",
            "/usr/lib/aarch64-linux-gnu",
            "/lib/x86_64-linux-gnu",
            "/lib/aarch64-linux-gnu",
            "/usr/lib64",
            "/usr/lib",
            "/usr/local/lib");

    private NativeAllocator() {}

    /** The environment that makes a child process run on it, naming the library by {@code library}. */
    public static Map<String, String> environment(String library) {
        return Map.of("LD_PRELOAD", library, "MALLOC_CONF", CONFIG);
    }

    /** The library on this machine, if it is installed where the dynamic linker looks by default. */
    public static Optional<Path> installed() {
        return LIBRARY_DIRECTORIES.stream()
                .map(directory -> Path.of(directory, LIBRARY))
                .filter(Files::isRegularFile)
                .findFirst();
    }

    /** Whether this process runs on jemalloc: a mapped file of it is named in {@code /proc/self/maps}. */
    public static boolean active() {
        Path maps = Path.of("/proc/self/maps");
        if (!Files.isReadable(maps)) {
            return false;
        }
        try (Stream<String> lines = Files.lines(maps)) {
            return lines.anyMatch(line -> line.contains("libjemalloc"));
        } catch (IOException | java.io.UncheckedIOException e) {
            return false;
        }
    }

    /**
     * One line for a service's startup log: which allocator the engine's memory comes from and, when
     * it is not jemalloc, what that costs against the memory estimate.
     */
    public static String describe() {
        return describe(active());
    }

    /**
     * Logs {@link #describe()} for a service's startup: to {@code info} on jemalloc, to {@code warning}
     * on glibc's allocator.
     */
    public static void report(Consumer<String> info, Consumer<String> warning) {
        boolean jemalloc = active();
        (jemalloc ? info : warning).accept(describe(jemalloc));
    }

    private static String describe(boolean jemalloc) {
        if (jemalloc) {
            String config = System.getenv("MALLOC_CONF");
            return "native allocator: jemalloc (MALLOC_CONF=" + (config == null ? "" : config) + ")";
        }
        return "native allocator: glibc's, which keeps freed blocks: a training step may peak at up to 1.7x"
                + " the memory estimate (the engine's own footprint, which jemalloc keeps within a few percent"
                + " of); preload " + LIBRARY + " with MALLOC_CONF=" + CONFIG + ", as the service images do";
    }
}
