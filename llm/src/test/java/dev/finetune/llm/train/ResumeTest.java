package dev.finetune.llm.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

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

    /** With fp16 the loss scaler's state is checkpointed too ({@code scaler.json}). */
    @Test
    void fp16LoraResumedFromACheckpointEndsWithTheSameWeights() throws IOException {
        assertResumeIsExact(
                Method.LORA,
                SettingValues.none()
                        .with(Settings.FP16, true)
                        .with(Settings.LORA_TARGET_MODULES, List.of("all-linear")),
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

    /**
     * The evaluations' state survives a resume: with a threshold no evaluation beats, the patience
     * counter grows by one per evaluation after the first; a run interrupted at checkpoint 2 (counter 1)
     * must still stop at step 5 (counter 4) with the same log and best metric, where one that forgot
     * the counter would stop at 6 and one that forgot the best would find a new one after the resume.
     */
    @Test
    void evaluationStateSurvivesAResume() throws IOException {
        Path model = TinyJob.model(dir.resolve("model"), 5);
        Path data = TinyJob.jsonl(dir.resolve("train.jsonl"), CapitalsTask.sftLines());
        Path validation = TinyJob.jsonl(dir.resolve("validation.jsonl"), CapitalsTask.sftLines(CapitalsTask.heldOut()));
        TrainConfig config = TrainConfig.of(model, data, dir.resolve("straight"), Method.LORA, Objective.SFT)
                .withValidationFile(validation)
                .withSettings(SettingValues.none()
                        .with(Settings.LEARNING_RATE, 1e-2)
                        .with(Settings.PER_DEVICE_TRAIN_BATCH_SIZE, 4)
                        .with(Settings.MAX_STEPS, 10)
                        .with(Settings.SAVE_STEPS, 2)
                        .with(Settings.EVAL_STRATEGY, EvalStrategy.STEPS)
                        .with(Settings.EVAL_STEPS, 1)
                        .with(Settings.EARLY_STOPPING_PATIENCE, 4)
                        .with(Settings.EARLY_STOPPING_THRESHOLD, 1000.0));
        TrainResult straight;
        try (Recipe recipe = recipe(config, TrainingListener.NONE)) {
            recipe.setup();
            straight = recipe.train();
        }

        TrainConfig interrupted = config.withOutputDir(dir.resolve("interrupted"));
        Recipe[] running = new Recipe[1];
        try (Recipe first = recipe(interrupted, stopAtFirstCheckpoint(running))) {
            running[0] = first;
            first.setup();
            assertThat(first.train().step()).isEqualTo(2);
        }
        TrainResult resumed;
        try (Recipe second = recipe(interrupted, TrainingListener.NONE)) {
            second.setup();
            resumed = second.train();
        }

        assertThat(straight.step()).isEqualTo(5);
        assertThat(straight.stoppedEarly()).isTrue();
        assertThat(resumed.resumedFrom()).isEqualTo(2);
        assertThat(resumed.step()).isEqualTo(5);
        assertThat(resumed.stoppedEarly()).isTrue();
        assertThat(resumed.bestMetric()).isCloseTo(straight.bestMetric(), within(1e-6));
        TrainerState a = TrainerState.read(dir.resolve("straight/checkpoint-5/trainer_state.json"));
        TrainerState b = TrainerState.read(dir.resolve("interrupted/checkpoint-5/trainer_state.json"));
        assertThat(b.logHistory()).extracting(e -> e.get("step")).containsExactly(1, 2, 3, 4, 5);
        for (int i = 0; i < 5; i++) {
            assertThat(((Number) b.logHistory().get(i).get("eval_loss")).doubleValue())
                    .isCloseTo(((Number) a.logHistory().get(i).get("eval_loss")).doubleValue(), within(1e-6));
        }
        assertThat(b.bestGlobalStep()).isEqualTo(a.bestGlobalStep());
        assertThat(b.earlyStoppingPatienceCounter()).isEqualTo(4);
    }

    @Test
    void loraOrpoResumedFromACheckpointEndsWithTheSameWeights() throws IOException {
        assertResumeIsExact(Method.LORA, SettingValues.none().with(Settings.LORA_DROPOUT, 0.1), Objective.ORPO);
    }

    @Test
    void loraRewardModelResumedFromACheckpointEndsWithTheSameAdaptersAndScoreHead() throws IOException {
        assertResumeIsExact(Method.LORA, SettingValues.none().with(Settings.LORA_DROPOUT, 0.1), Objective.REWARD);
    }

    @Test
    void fullRewardModelResumedFromACheckpointEndsWithTheSameWeightsAndScoreHead() throws IOException {
        assertResumeIsExact(Method.FULL, SettingValues.none(), Objective.REWARD);
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
        if (objective == Objective.REWARD) {
            String head = method == Method.FULL ? "score.weight" : "base_model.model.score.weight";
            assertThat(maxDifference(Map.of(head, initial.get(head)), Map.of(head, straight.get(head))))
                    .as("the score head is trained and resumed")
                    .isGreaterThan(1e-3);
        }
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
