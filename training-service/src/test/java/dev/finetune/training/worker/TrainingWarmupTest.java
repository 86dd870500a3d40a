package dev.finetune.training.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The worker's training warm-up trains its steps through the real recipe and leaves its work dir as it was. */
class TrainingWarmupTest {
    @TempDir
    Path workDir;

    @Test
    void trainsEveryStepAndDeletesWhatItWrote() throws Exception {
        Path other = Files.writeString(workDir.resolve("cached-base-model.txt"), "kept");

        int steps = TrainingWarmup.run(workDir);

        assertThat(steps).isEqualTo(TrainingWarmup.STEPS);
        try (var left = Files.list(workDir)) {
            assertThat(left.toList()).containsExactly(other);
        }
    }
}
