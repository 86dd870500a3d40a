package dev.finetune.llm.inference;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Device;
import dev.finetune.llm.checkpoint.ModelConfig;
import dev.finetune.llm.checkpoint.ModelType;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.tiny.TinyModelGenerator;
import dev.finetune.llm.tiny.TinyModels;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Per-call scopes free every temporary: native memory does not grow with the number of calls. */
class MemoryFootprintTest {
    private static final long ALLOWED_GROWTH_BYTES = 50L << 20;

    @Test
    void fiveHundredForwardPassesKeepResidentMemoryFlat() throws IOException {
        // Big enough that a leak shows: one pass makes several MB of temporaries (logits alone are 1 MiB).
        ModelConfig config = TinyModels.config(ModelType.LLAMA).toBuilder()
                .vocabSize(1024)
                .hiddenSize(128)
                .intermediateSize(352)
                .numHiddenLayers(4)
                .numAttentionHeads(8)
                .build();
        List<long[]> batch = randomSequences(4, 64, config.vocabSize());
        try (CausalLm model =
                TinyModelGenerator.create(config, 9, TinyModelGenerator.Initialization.TEST, Device.cpu())) {
            for (int i = 0; i < 50; i++) { // warm-up: allocator pools and JIT reach their steady state
                Scorer.tokenLogProbs(model, batch);
            }
            long before = nativeBytes();
            long start = System.nanoTime();
            for (int i = 0; i < 500; i++) {
                Scorer.tokenLogProbs(model, batch);
            }
            long after = nativeBytes();
            System.out.printf(
                    "memory: RSS outside the Java heap %d MiB -> %d MiB over 500 passes (%+.1f MiB), %.1f ms per"
                            + " pass%n",
                    before >> 20, after >> 20, (after - before) / 1048576.0, (System.nanoTime() - start) / 500e6);
            assertThat(after - before).isLessThan(ALLOWED_GROWTH_BYTES);
        }
    }

    /** Resident memory less the committed Java heap, which grows with allocation pressure and stays. */
    static long nativeBytes() {
        try {
            long resident = residentBytes();
            return resident - Runtime.getRuntime().totalMemory();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@code count} random sequences, each 3 tokens shorter than the one before (so padding is in play). */
    static List<long[]> randomSequences(int count, int length, int vocab) {
        SplittableRandom random = new SplittableRandom(5);
        List<long[]> sequences = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            sequences.add(random.longs(length - i * 3, 1, vocab).toArray()); // ragged: padding in play
        }
        return sequences;
    }

    /** VmRSS of this process, including native (engine) memory that the JVM heap does not show. */
    private static long residentBytes() throws IOException {
        System.gc(); // direct buffers wrapped by freed arrays are released by the GC
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }
}
