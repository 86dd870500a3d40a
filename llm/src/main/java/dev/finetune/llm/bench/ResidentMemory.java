package dev.finetune.llm.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * This process's resident memory on Linux ({@code /proc/self/status}): VmRSS now and VmHWM, the
 * kernel's exact peak, which {@link #resetPeak} sets back to the current size. With a fixed,
 * pre-touched heap and glibc told to return freed memory (the benchmarks' child JVMs and the tests'
 * {@code ChildJvm} run so) a change of either is native memory the code being measured allocated.
 */
public final class ResidentMemory {
    private ResidentMemory() {}

    /** VmRSS in bytes, after a GC (direct buffers of freed arrays are released by it). */
    public static long resident() {
        System.gc();
        return field("VmRSS:");
    }

    /** VmHWM in bytes: the largest VmRSS since the process started or since {@link #resetPeak}. */
    public static long peak() {
        return field("VmHWM:");
    }

    /** Sets VmHWM to the current VmRSS (Linux 4.0+: writing 5 to clear_refs). */
    public static void resetPeak() {
        System.gc();
        try {
            Files.writeString(Path.of("/proc/self/clear_refs"), "5"); // VmHWM := VmRSS
        } catch (IOException e) {
            throw new UncheckedIOException("cannot reset the peak resident size", e);
        }
    }

    private static long field(String name) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(name)) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        throw new IllegalStateException("no " + name + " in /proc/self/status");
    }
}
