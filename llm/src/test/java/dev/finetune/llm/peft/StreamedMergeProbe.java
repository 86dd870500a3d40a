package dev.finetune.llm.peft;

import dev.finetune.llm.bench.ResidentMemory;
import java.nio.file.Path;

/**
 * Child-JVM side of {@link StreamedMergeTest}: merges a warm-up model (engine start, class loading,
 * JIT and buffers out of the way), then the measured one, and prints the resident size before, the
 * peak during and the resident size after the merge.
 */
public final class StreamedMergeProbe {
    private StreamedMergeProbe() {}

    /** Arguments: base, adapter, output; warm-up base, warm-up adapter, warm-up output. */
    public static void main(String[] args) throws Exception {
        StreamedMerge.write(Path.of(args[3]), Path.of(args[4]), Path.of(args[5]), 1 << 20);
        ResidentMemory.resetPeak();
        long before = ResidentMemory.resident();
        StreamedMerge.write(Path.of(args[0]), Path.of(args[1]), Path.of(args[2]), 32L << 20);
        long peak = ResidentMemory.peak();
        long after = ResidentMemory.resident();
        System.out.println("before=" + before + " peak=" + peak + " after=" + after);
    }
}
