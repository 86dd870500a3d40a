package dev.finetune.training.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The worker's training warm-up trains its steps through the real recipe and leaves its work dir as it was. */
class TrainingWarmupTest {
    @TempDir
    Path workDir;

    @Test
    void trainsEveryStepAndDeletesWhatItWrote() throws Exception {
        Path other = Files.writeString(workDir.resolve("cached-base-model.txt"), "kept");

        int steps = new TrainingWarmup(workDir).run();

        assertThat(steps).isEqualTo(TrainingWarmup.STEPS);
        try (var left = Files.list(workDir)) {
            assertThat(left.toList()).containsExactly(other);
        }
    }

    @Test
    void aWarmUpStoppedBeforeItRunsTrainsNothing() throws Exception {
        TrainingWarmup warmup = new TrainingWarmup(workDir);
        warmup.stop(); // a job came first

        assertThat(warmup.run()).isZero();
        try (var left = Files.list(workDir)) {
            assertThat(left.toList()).isEmpty();
        }
    }

    @Test
    void aWarmUpStoppedWhileTrainingEndsBeforeItsLastStep() throws Exception {
        TrainingWarmup warmup = new TrainingWarmup(workDir);
        CompletableFuture<Integer> steps = CompletableFuture.supplyAsync(warmup::run);
        Path model = workDir.resolve("warmup-training").resolve("model");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!Files.isDirectory(model) && !steps.isDone() && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        Thread.sleep(500); // into its 300 steps, which take seconds (or before them: it then trains none)
        warmup.stop();

        assertThat(steps.get(60, TimeUnit.SECONDS)).isLessThan(TrainingWarmup.STEPS);
    }
}
