package dev.finetune.llm.train;

import static org.assertj.core.api.Assertions.assertThat;

import dev.finetune.events.Objective;
import dev.finetune.llm.model.Parameter;
import dev.finetune.llm.optim.ScheduleType;
import dev.finetune.llm.settings.SettingValues;
import dev.finetune.llm.settings.Settings;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Training 2N steps straight and N steps, a restart from the checkpoint, then N more give the same
 * weights: model, optimizer moments, schedule, data order and dropout all continue exactly.
 */
class ResumeTest {
    private static final int N = 3;

    @TempDir
    Path dir;

    @Test
    void fullFineTuningResumedFromACheckpointEndsWithTheSameWeights() throws IOException {
        assertResumeIsExact(Method.FULL, SettingValues.none(), Objective.SFT);
    }

    @Test
    void loraWithDropoutResumedFromACheckpointEndsWithTheSameWeights() throws IOException {
        assertResumeIsExact(
                Method.LORA,
                SettingValues.none()
                        .with(Settings.LORA_TARGET_MODULES, List.of("all-linear"))
                        .with(Settings.LORA_DROPOUT, 0.1),
                Objective.SFT);
    }

    /** DoRA's magnitudes are saved in the checkpoint's adapter and their optimizer moments with the rest. */
    @Test
    void doraResumedFromACheckpointEndsWithTheSameWeights() throws IOException {
        assertResumeIsExact(
                Method.LORA,
                SettingValues.none()
                        .with(Settings.USE_DORA, true)
                        .with(Settings.LORA_ALPHA, 12.5)
                        .with(Settings.LORA_DROPOUT, 0.1),
                Objective.SFT);
    }

    @Test
    void fullDpoResumesWithTheReferenceOfTheInitialWeights() throws IOException {
        // A resumed run that recomputed the reference from its current (trained) weights would differ.
        assertResumeIsExact(Method.FULL, SettingValues.none(), Objective.DPO);
    }

    @Test
    void loraOrpoResumedFromACheckpointEndsWithTheSameWeights() throws IOException {
        assertResumeIsExact(Method.LORA, SettingValues.none().with(Settings.LORA_DROPOUT, 0.1), Objective.ORPO);
    }

    @Test
    void fullKtoResumesWithTheReferenceOfTheInitialWeights() throws IOException {
        assertResumeIsExact(Method.FULL, SettingValues.none(), Objective.KTO);
    }

    private void assertResumeIsExact(Method method, SettingValues lora, Objective objective) throws IOException {
        Path model = TinyJob.model(dir.resolve("model"), 5);
        Path data = objective == Objective.SFT
                ? TinyJob.jsonl(dir.resolve("train.jsonl"), CapitalsTask.sftLines())
                : objective == Objective.KTO
                        ? TinyJob.jsonl(
                                dir.resolve("labelled.jsonl"),
                                CasePreferenceTask.unpairedLines(CasePreferenceTask.training()))
                        : TinyJob.jsonl(
                                dir.resolve("pairs.jsonl"), CasePreferenceTask.lines(CasePreferenceTask.training()));
        TrainConfig config = TrainConfig.of(model, data, dir.resolve("straight"), method, objective)
                .withSettings(lora)
                .with(Settings.LEARNING_RATE, 1e-2)
                .with(Settings.PER_DEVICE_TRAIN_BATCH_SIZE, 4)
                .with(Settings.GRADIENT_ACCUMULATION_STEPS, 2)
                .with(Settings.MAX_STEPS, 2 * N)
                .with(Settings.SAVE_STEPS, N)
                .with(Settings.WARMUP_STEPS, 2)
                .with(Settings.LR_SCHEDULER_TYPE, ScheduleType.COSINE)
                .with(Settings.WEIGHT_DECAY, 0.01);

        Map<String, float[]> initial;
        Map<String, float[]> straight;
        try (Recipe recipe = recipe(config, TrainingListener.NONE)) {
            recipe.setup();
            initial = snapshot(recipe.model().parameters());
            assertThat(recipe.train().step()).isEqualTo(2 * N);
            straight = snapshot(recipe.model().parameters());
        }

        TrainConfig interrupted = config.withOutputDir(dir.resolve("interrupted"));
        Recipe[] running = new Recipe[1];
        try (Recipe first = recipe(interrupted, stopAtFirstCheckpoint(running))) {
            running[0] = first;
            first.setup();
            TrainResult result = first.train(); // the process "dies" right after checkpoint N
            assertThat(result.step()).isEqualTo(N);
            assertThat(result.output()).isNull();
        }
        Map<String, float[]> resumed;
        try (Recipe second = recipe(interrupted, TrainingListener.NONE)) {
            second.setup();
            TrainResult result = second.train();
            assertThat(result.resumedFrom()).isEqualTo(N);
            assertThat(result.completed()).isTrue();
            resumed = snapshot(second.model().parameters());
        }

        assertThat(maxDifference(initial, straight))
                .as("training moved the weights")
                .isGreaterThan(1e-3);
        assertThat(maxDifference(straight, resumed)).isLessThanOrEqualTo(1e-6);
    }

    static Recipe recipe(TrainConfig config, TrainingListener listener) {
        return Recipes.create(config, listener);
    }

    /** Asks the recipe in {@code running[0]} to stop as soon as its first checkpoint is complete. */
    static TrainingListener stopAtFirstCheckpoint(Recipe[] running) {
        return new TrainingListener() {
            @Override
            public void onStep(StepMetrics metrics) {}

            @Override
            public void onCheckpoint(int step, Path directory) {
                running[0].requestStop();
            }
        };
    }

    static Map<String, float[]> snapshot(Map<String, Parameter> parameters) {
        Map<String, float[]> values = new LinkedHashMap<>();
        parameters.forEach((name, p) -> values.put(name, p.array().toFloatArray()));
        return values;
    }

    static double maxDifference(Map<String, float[]> a, Map<String, float[]> b) {
        assertThat(b.keySet()).isEqualTo(a.keySet());
        double max = 0;
        for (String name : a.keySet()) {
            float[] x = a.get(name);
            float[] y = b.get(name);
            for (int i = 0; i < x.length; i++) {
                max = Math.max(max, Math.abs(x[i] - y[i]));
            }
        }
        return max;
    }
}
