package dev.finetune.llm.train;

import static org.assertj.core.api.Assertions.assertThat;

import dev.finetune.events.Objective;
import dev.finetune.llm.checkpoint.ModelConfig;
import dev.finetune.llm.checkpoint.ModelType;
import dev.finetune.llm.settings.Settings;
import dev.finetune.llm.tiny.TinyModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every step's arrays live in per-micro-batch scopes and the optimizer state is created up front:
 * resident memory does not grow with the number of steps (without the scopes each step of this model
 * leaks about 12 MB: 3 GB over this run).
 */
class TrainingMemoryTest {
    private static final int WARMUP_STEPS = 50;
    private static final int MEASURED_STEPS = 250;
    /** A hundredth of what the leak this test guards against would add; allocator and JIT noise is below. */
    private static final long ALLOWED_GROWTH_BYTES = 30L << 20;

    @TempDir
    Path dir;

    @Test
    void residentMemoryStaysFlatOverHundredsOfSteps() throws IOException {
        ModelConfig config = TinyModels.config(ModelType.LLAMA).toBuilder()
                .vocabSize(TinyJob.VOCAB)
                .hiddenSize(128)
                .intermediateSize(352)
                .build();
        Path model = TinyJob.model(dir.resolve("model"), 2, config);
        Path data = TinyJob.jsonl(dir.resolve("train.jsonl"), CapitalsTask.sftLines());
        TrainConfig job = TrainConfig.of(model, data, dir.resolve("out"), Method.FULL, Objective.SFT)
                .with(Settings.MAX_STEPS, WARMUP_STEPS + MEASURED_STEPS)
                .with(Settings.SAVE_STEPS, 100_000);
        long[] rss = new long[2];
        TrainingListener sampler = metrics -> {
            if (metrics.step() == WARMUP_STEPS) {
                rss[0] = nativeResidentBytes();
            } else if (metrics.step() == WARMUP_STEPS + MEASURED_STEPS) {
                rss[1] = nativeResidentBytes();
            }
        };
        try (SftRecipe recipe = new SftRecipe(job, sampler)) {
            recipe.setup();
            recipe.train();
        }
        assertThat(rss[0]).isPositive();
        assertThat(rss[1] - rss[0])
                .as(
                        "RSS outside the Java heap: %d MiB after %d steps, %d MiB after %d",
                        rss[0] >> 20, WARMUP_STEPS, rss[1] >> 20, WARMUP_STEPS + MEASURED_STEPS)
                .isLessThan(ALLOWED_GROWTH_BYTES);
    }

    /**
     * Resident memory outside the Java heap: VmRSS less the committed heap, which the JVM grows and
     * keeps as it pleases (in a JVM shared with other tests it grows by tens of MB here).
     */
    static long nativeResidentBytes() {
        long resident = residentBytes();
        return resident - Runtime.getRuntime().totalMemory();
    }

    /** VmRSS of this process, including the engine's native memory. */
    static long residentBytes() {
        System.gc();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }
}
