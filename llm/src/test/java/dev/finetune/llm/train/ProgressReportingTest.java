package dev.finetune.llm.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.finetune.events.Objective;
import dev.finetune.llm.optim.LearningRateSchedule;
import dev.finetune.llm.optim.ScheduleType;
import dev.finetune.llm.settings.Settings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The listener sees every step with what a progress event needs, and every completed checkpoint. */
class ProgressReportingTest {
    @TempDir
    Path dir;

    @Test
    void everyStepReportsEpochLossRateGradNormThroughputAndEta() throws IOException {
        Path model = TinyJob.model(dir.resolve("model"), 4);
        Path data = TinyJob.jsonl(dir.resolve("train.jsonl"), CapitalsTask.sftLines()); // 48 examples
        TrainConfig config = TrainConfig.of(model, data, dir.resolve("out"), Method.FULL, Objective.SFT)
                .with(Settings.LEARNING_RATE, 1e-3)
                .with(Settings.PER_DEVICE_TRAIN_BATCH_SIZE, 8)
                .with(Settings.GRADIENT_ACCUMULATION_STEPS, 2) // 3 steps per epoch
                .with(Settings.NUM_TRAIN_EPOCHS, 2.0)
                .with(Settings.WARMUP_RATIO, 0.25)
                .with(Settings.LR_SCHEDULER_TYPE, ScheduleType.COSINE)
                .with(Settings.SAVE_STEPS, 4);
        TrainingArguments arguments = config.training();
        List<StepMetrics> steps = new ArrayList<>();
        List<Integer> checkpointSteps = new ArrayList<>();
        List<int[]> starts = new ArrayList<>();
        TrainingListener listener = new TrainingListener() {
            @Override
            public void onStart(int startStep, int totalSteps) {
                starts.add(new int[] {startStep, totalSteps});
            }

            @Override
            public void onStep(StepMetrics metrics) {
                steps.add(metrics);
            }

            @Override
            public void onCheckpoint(int step, Path directory) {
                assertThat(directory.resolve("trainer_state.json")).isRegularFile();
                checkpointSteps.add(step);
            }
        };
        try (SftRecipe recipe = new SftRecipe(config, listener)) {
            recipe.setup();
            recipe.train();
        }

        assertThat(starts).singleElement().satisfies(s -> assertThat(s).containsExactly(0, 6));
        LearningRateSchedule schedule = new LearningRateSchedule(ScheduleType.COSINE, 1e-3, 2, 6);
        assertThat(steps).extracting(StepMetrics::step).containsExactly(1, 2, 3, 4, 5, 6);
        for (StepMetrics metrics : steps) {
            assertThat(metrics.totalSteps()).isEqualTo(6);
            assertThat(metrics.epoch()).isCloseTo(metrics.step() / 3.0, within(1e-12));
            assertThat(metrics.learningRate()).isCloseTo(schedule.rate(metrics.step() - 1), within(1e-15));
            assertThat(metrics.loss()).isPositive().isFinite();
            assertThat(metrics.gradNorm()).isPositive().isFinite();
            assertThat(metrics.tokensPerSecond()).isPositive();
            assertThat(metrics.objectiveMetrics()).isEmpty();
        }
        assertThat(steps.get(0).learningRate()).as("warmup starts at 0").isZero();
        assertThat(steps.get(5).eta()).isEqualTo(Duration.ZERO);
        assertThat(steps.get(0).eta()).isPositive();
        assertThat(checkpointSteps).as("every save_steps and at the end").containsExactly(4, 6);
        assertThat(Files.exists(dir.resolve("out/final/model.safetensors"))).isTrue();
    }
}
