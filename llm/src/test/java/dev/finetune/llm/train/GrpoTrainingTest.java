package dev.finetune.llm.train;

import static org.assertj.core.api.Assertions.assertThat;

import dev.finetune.events.Objective;
import dev.finetune.llm.lora.LoraConfig;
import dev.finetune.llm.settings.SettingValues;
import dev.finetune.llm.settings.Settings;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * GRPO on a tiny model: the rule reward "the answer contains a number" rises within a bounded number of
 * steps while the KL to the reference stays bounded; and a run resumed from a checkpoint repeats the
 * steps of an uninterrupted one bit for bit (data order, dropout and the rollouts' sampling all functions
 * of the step).
 */
class GrpoTrainingTest {
    private static final String CONTAINS_A_NUMBER = "regex:[0-9]";
    private static final int STEPS = 20;

    @TempDir
    Path dir;

    /**
     * From about 0.15 (a digit among 6 random tokens), the mean reward passes 0.6 within 20 steps of 32
     * completions; the KL per token stays under 3 nats with the default beta, and a stronger beta keeps
     * the policy measurably closer to the reference.
     */
    @Test
    void grpoRaisesTheMeanRuleRewardWhileTheKlStaysBounded() throws IOException {
        List<StepMetrics> metrics = train(0.04, dir.resolve("default-beta"));
        double first = meanOf(metrics.subList(0, 5), "reward");
        double last = meanOf(metrics.subList(STEPS - 5, STEPS), "reward");
        assertThat(first).as("mean reward of the first 5 steps").isLessThan(0.35);
        assertThat(last)
                .as("mean reward of the last 5 steps")
                .isGreaterThan(0.6)
                .isGreaterThan(first + 0.3);
        assertThat(metrics.get(0).objectiveMetrics().get("kl"))
                .as("policy = reference at step 1")
                .isZero();
        for (StepMetrics m : metrics) {
            assertThat(m.objectiveMetrics().get("kl"))
                    .as("kl at step " + m.step())
                    .isBetween(0.0, 3.0);
            assertThat(m.objectiveMetrics().get("clip_ratio"))
                    .as("num_iterations 1: ratio 1")
                    .isZero();
            assertThat(m.objectiveMetrics().get("entropy"))
                    .as("mean next-token entropy over the completions at step " + m.step())
                    .isPositive()
                    .isFinite();
        }

        List<StepMetrics> strong = train(1.0, dir.resolve("strong-beta"));
        assertThat(meanOf(strong.subList(STEPS - 5, STEPS), "kl"))
                .as("beta 1 holds the policy closer to the reference than beta 0.04")
                .isLessThan(meanOf(metrics.subList(STEPS - 5, STEPS), "kl") / 2);
    }

    private List<StepMetrics> train(double beta, Path output) throws IOException {
        TrainConfig config = job(output)
                .with(Settings.BETA, beta)
                .with(Settings.LEARNING_RATE, 5e-3)
                .with(Settings.MAX_STEPS, STEPS)
                .with(Settings.SAVE_STEPS, STEPS);
        List<StepMetrics> metrics = new ArrayList<>();
        try (Recipe recipe = Recipes.create(config, metrics::add)) {
            recipe.setup();
            recipe.train();
        }
        assertThat(metrics).hasSize(STEPS);
        return metrics;
    }

    @Test
    void loraGrpoResumedFromACheckpointRepeatsTheUninterruptedSteps() throws IOException {
        int n = 2;
        TrainConfig config = job(dir.resolve("straight"))
                .with(Settings.LORA_DROPOUT, 0.1)
                .with(Settings.PER_DEVICE_TRAIN_BATCH_SIZE, 8)
                .with(Settings.GRADIENT_ACCUMULATION_STEPS, 2)
                .with(Settings.MAX_STEPS, 2 * n)
                .with(Settings.SAVE_STEPS, n);
        List<StepMetrics> straight = new ArrayList<>();
        Map<String, float[]> straightWeights;
        Map<String, float[]> initial;
        try (Recipe recipe = Recipes.create(config, straight::add)) {
            recipe.setup();
            initial = ResumeTest.snapshot(recipe.model().parameters());
            recipe.train();
            straightWeights = ResumeTest.snapshot(recipe.model().parameters());
        }

        TrainConfig interrupted = config.withOutputDir(dir.resolve("interrupted"));
        Recipe[] running = new Recipe[1];
        try (Recipe first = Recipes.create(interrupted, ResumeTest.stopAtFirstCheckpoint(running))) {
            running[0] = first;
            first.setup();
            assertThat(first.train().step()).isEqualTo(n);
        }
        List<StepMetrics> resumed = new ArrayList<>();
        Map<String, float[]> resumedWeights;
        try (Recipe second = Recipes.create(interrupted, resumed::add)) {
            second.setup();
            assertThat(second.train().resumedFrom()).isEqualTo(n);
            resumedWeights = ResumeTest.snapshot(second.model().parameters());
        }

        assertThat(ResumeTest.maxDifference(initial, straightWeights))
                .as("training moved the weights")
                .isGreaterThan(1e-4);
        assertThat(ResumeTest.maxDifference(straightWeights, resumedWeights)).isZero();
        assertThat(resumed).hasSize(n);
        for (int i = 0; i < n; i++) {
            StepMetrics a = straight.get(n + i);
            StepMetrics b = resumed.get(i);
            assertThat(b.step()).isEqualTo(a.step());
            assertThat(b.loss()).as("loss of step " + a.step()).isEqualTo(a.loss());
            assertThat(b.objectiveMetrics()).as("rollouts of step " + a.step()).isEqualTo(a.objectiveMetrics());
        }
    }

    /** LoRA on every linear of a learnable tiny model; 4 prompts x 8 completions of at most 6 tokens per step. */
    private TrainConfig job(Path output) throws IOException {
        Path model = dir.resolve("model");
        if (!java.nio.file.Files.exists(model)) {
            TinyJob.learnable(model, 8);
        }
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            lines.add(CapitalsTask.json(CapitalsTask.ordered(
                    "prompt", "Write a number, " + CasePreferenceTask.training().get(i))));
        }
        Path data = TinyJob.jsonl(dir.resolve("prompts.jsonl"), lines);
        SettingValues settings = SettingValues.none()
                .with(Settings.REWARD_FUNCS, List.of(CONTAINS_A_NUMBER))
                .with(Settings.LORA_TARGET_MODULES, List.of(LoraConfig.ALL_LINEAR))
                .with(Settings.LORA_R, 16)
                .with(Settings.LORA_ALPHA, 32.0)
                .with(Settings.LORA_DROPOUT, 0.0)
                .with(Settings.LEARNING_RATE, 1e-2)
                .with(Settings.NUM_GENERATIONS, 8)
                .with(Settings.PER_DEVICE_TRAIN_BATCH_SIZE, 32)
                .with(Settings.MAX_COMPLETION_LENGTH, 6);
        return new TrainConfig(model, data, null, output, Method.LORA, Objective.GRPO, true, settings);
    }

    private static double meanOf(List<StepMetrics> steps, String metric) {
        return steps.stream()
                .mapToDouble(m -> m.objectiveMetrics().get(metric))
                .average()
                .orElseThrow();
    }
}
