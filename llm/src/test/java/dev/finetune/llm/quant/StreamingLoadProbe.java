package dev.finetune.llm.quant;

import ai.djl.Device;
import dev.finetune.llm.bench.ResidentMemory;
import dev.finetune.llm.model.CausalLm;
import java.nio.file.Path;

/**
 * Child-JVM side of {@link StreamingLoadTest}: loads a warm-up model (engine start, class loading,
 * JIT and staging buffers out of the way), then the measured one, and prints the resident size
 * before, the peak during and the resident size after the load.
 */
public final class StreamingLoadProbe {
    private StreamingLoadProbe() {}

    /** Arguments: model directory, warm-up model directory, base dtype (fp32, int8, nf4). */
    public static void main(String[] args) throws Exception {
        BaseStorage storage = BaseStorage.of(BaseDType.parse(args[2]));
        try (CausalLm warmup = CausalLm.load(Path.of(args[1]), Device.cpu(), storage)) {
            warmup.config(); // loaded and dropped
        }
        ResidentMemory.resetPeak();
        long before = ResidentMemory.resident();
        try (CausalLm model = CausalLm.load(Path.of(args[0]), Device.cpu(), storage)) {
            long peak = ResidentMemory.peak();
            long after = ResidentMemory.resident();
            System.out.println("before=" + before + " peak=" + peak + " after=" + after);
        }
    }
}
