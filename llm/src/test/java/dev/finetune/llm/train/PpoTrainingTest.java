package dev.finetune.llm.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.finetune.events.Objective;
import dev.finetune.llm.lora.LoraConfig;
import dev.finetune.llm.model.ValueHead;
import dev.finetune.llm.settings.SettingException;
import dev.finetune.llm.settings.SettingValues;
import dev.finetune.llm.settings.Settings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * PPO on a tiny model: the rule reward "the answer contains a number" rises within a bounded number of
 * rollout batches while the KL to the reference stays bounded, the first update of each batch has ratio
 * 1; a run resumed from a checkpoint taken in the middle of a rollout batch's PPO epochs repeats the
 * uninterrupted run bit for bit (value head included); bad settings are refused naming the setting.
 */
class PpoTrainingTest {
    private static final String CONTAINS_A_NUMBER = "regex:[0-9]";

    @TempDir
    Path dir;

    /**
     * 32 prompts a rollout batch, 2 PPO epochs of 2 mini-batches: 4 optimizer steps per batch, 12 batches
     * at a constant learning rate. From about 0.1 (a digit among 6 random tokens) the mean score of the
     * last two batches passes 0.5 (0.77 measured); about 15 s.
     */
    @Test
    void ppoRaisesTheMeanRuleRewardWhileTheKlStaysBounded() throws IOException {
        int rollouts = 12;
        TrainConfig config = job(dir.resolve("run"))
                .with(Settings.PER_DEVICE_TRAIN_BATCH_SIZE, 16)
                .with(Settings.LR_SCHEDULER_TYPE, dev.finetune.llm.optim.ScheduleType.CONSTANT)
                .with(Settings.LEARNING_RATE, 3e-3)
                .with(Settings.MAX_STEPS, 4 * rollouts)
                .with(Settings.SAVE_STEPS, 4 * rollouts);
        List<StepMetrics> metrics = new ArrayList<>();
        try (Recipe recipe = Recipes.create(config, metrics::add)) {
            recipe.setup();
            recipe.train();
        }
        assertThat(metrics).hasSize(4 * rollouts);
        double first = metrics.get(0).objectiveMetrics().get("objective/scores");
        double last = (metrics.get(4 * rollouts - 1).objectiveMetrics().get("objective/scores")
                        + metrics.get(4 * rollouts - 5).objectiveMetrics().get("objective/scores"))
                / 2;
        assertThat(first).as("mean score of the first rollout batch").isLessThan(0.4);
        assertThat(last)
                .as("mean score of the last two rollout batches")
                .isGreaterThan(0.5)
                .isGreaterThan(first + 0.25);
        assertThat(metrics.get(0).objectiveMetrics().get("objective/kl"))
                .as("policy = reference at the first rollout")
                .isZero();
        for (int step = 0; step < metrics.size(); step++) {
            Map<String, Double> m = metrics.get(step).objectiveMetrics();
            assertThat(m.get("objective/kl"))
                    .as("kl per completion (k1, summed over at most 6 tokens) at step %d", step + 1)
                    .isBetween(-1.0, 12.0);
            if (step % 4 == 0) {
                assertThat(m.get("val/ratio"))
                        .as("the first update of a rollout batch is where it was sampled")
                        .isCloseTo(1.0, within(1e-4));
                assertThat(m.get("policy/clipfrac_avg"))
                        .as("ratio 1 is never clipped")
                        .isZero();
            }
            assertThat(m)
                    .containsKeys(
                            "objective/entropy",
                            "objective/non_score_reward",
                            "objective/rlhf_reward",
                            "policy/approxkl_avg",
                            "loss/value_avg",
                            "val/clipfrac_avg",
                            "rewards/" + CONTAINS_A_NUMBER + "/mean");
        }
        assertThat(metrics.stream()
                        .mapToDouble(m -> m.objectiveMetrics().get("policy/approxkl_avg"))
                        .max()
                        .orElseThrow())
                .as("later updates of a batch move away from where it was sampled")
                .isGreaterThan(0);
    }

    @Test
    void ppoResumedInTheMiddleOfARolloutBatchRepeatsTheUninterruptedSteps() throws IOException {
        int n = 3; // the checkpoint falls after the 3rd of the first batch's 4 updates
        TrainConfig config = job(dir.resolve("straight"))
                .with(Settings.ADAP_KL_CTRL, true)
                .with(Settings.TARGET, 0.01)
                .with(Settings.HORIZON, 100.0)
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
        assertThat(straightWeights).containsKeys(ValueHead.WEIGHT, ValueHead.BIAS);

        TrainConfig interrupted = config.withOutputDir(dir.resolve("interrupted"));
        Recipe[] running = new Recipe[1];
        try (Recipe first = Recipes.create(interrupted, ResumeTest.stopAtFirstCheckpoint(running))) {
            running[0] = first;
            first.setup();
            assertThat(first.train().step()).isEqualTo(n);
        }
        assertThat(Files.exists(dir.resolve("interrupted/checkpoint-" + n + "/" + TrainableModel.VALUE_HEAD_FILE)))
                .isTrue();
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
        assertThat(ResumeTest.maxDifference(
                        Map.of(ValueHead.WEIGHT, initial.get(ValueHead.WEIGHT)),
                        Map.of(ValueHead.WEIGHT, straightWeights.get(ValueHead.WEIGHT))))
                .as("the value head trains")
                .isGreaterThan(1e-6);
        assertThat(ResumeTest.maxDifference(straightWeights, resumedWeights)).isZero();
        assertThat(resumed).hasSize(n);
        for (int i = 0; i < n; i++) {
            StepMetrics a = straight.get(n + i);
            StepMetrics b = resumed.get(i);
            assertThat(b.step()).isEqualTo(a.step());
            assertThat(b.loss()).as("loss of step " + a.step()).isEqualTo(a.loss());
            assertThat(b.objectiveMetrics()).as("metrics of step " + a.step()).isEqualTo(a.objectiveMetrics());
        }
        assertThat(straight.get(4).objectiveMetrics().get("objective/kl_coef"))
                .as("the adaptive controller moved kl_coef after the first batch")
                .isNotEqualTo(straight.get(0).objectiveMetrics().get("objective/kl_coef"));
    }

    /**
     * QLoRA: the nf4 base turns on activation checkpointing, where the final hidden states are a leaf that
     * both heads' gradients must reach before the layers are replayed; the adapters and the value head
     * both move and every loss is finite.
     */
    @Test
    void qloraPpoTrainsTheAdaptersAndTheValueHeadThroughCheckpointedLayers() throws IOException {
        TrainConfig lora = job(dir.resolve("qlora"));
        TrainConfig config = new TrainConfig(
                        lora.model(),
                        lora.trainFile(),
                        null,
                        lora.outputDir(),
                        Method.QLORA,
                        Objective.PPO,
                        true,
                        lora.settings())
                .with(Settings.MAX_STEPS, 4)
                .with(Settings.SAVE_STEPS, 4);
        List<StepMetrics> metrics = new ArrayList<>();
        Map<String, float[]> initial;
        Map<String, float[]> trained;
        try (Recipe recipe = Recipes.create(config, metrics::add)) {
            recipe.setup();
            assertThat(recipe.model().model().gradientCheckpointing()).isTrue();
            initial = ResumeTest.snapshot(recipe.model().parameters());
            recipe.train();
            trained = ResumeTest.snapshot(recipe.model().parameters());
        }
        assertThat(metrics).hasSize(4).allSatisfy(m -> assertThat(m.loss()).isFinite());
        Map<String, float[]> initialAdapters = new HashMap<>(initial);
        Map<String, float[]> trainedAdapters = new HashMap<>(trained);
        for (String head : List.of(ValueHead.WEIGHT, ValueHead.BIAS)) {
            assertThat(ResumeTest.maxDifference(Map.of(head, initial.get(head)), Map.of(head, trained.get(head))))
                    .as(head + " moved")
                    .isGreaterThan(1e-6);
            initialAdapters.remove(head);
            trainedAdapters.remove(head);
        }
        assertThat(ResumeTest.maxDifference(initialAdapters, trainedAdapters))
                .as("the adapters moved")
                .isGreaterThan(1e-5);
    }

    /**
     * 32 prompts, mini-batches of 8, 2 of them a rollout batch optimised 2 PPO epochs: 4 mini-batches and
     * 8 optimizer steps a pass over the prompts. The reported epoch is TRL's, the fraction of the prompts
     * consumed (not the optimizer steps over the steps of one pass at one update per mini-batch), and
     * eval_strategy epoch evaluates once per pass. About 2 s.
     */
    @Test
    void ppoEpochsArePassesOverThePrompts() throws IOException {
        TrainConfig job = job(dir.resolve("epochs"));
        TrainConfig config = job.with(Settings.METRIC_FOR_BEST_MODEL, "objective/scores")
                .withValidationFile(job.trainFile())
                .with(Settings.NUM_TRAIN_EPOCHS, 2.0)
                .with(Settings.EVAL_STRATEGY, EvalStrategy.EPOCH)
                .with(Settings.SAVE_STEPS, 100);
        List<StepMetrics> steps = new ArrayList<>();
        Map<Integer, Double> evaluations = new java.util.TreeMap<>();
        try (Recipe recipe = Recipes.create(config, new TrainingListener() {
            @Override
            public void onStep(StepMetrics metrics) {
                steps.add(metrics);
            }

            @Override
            public void onEvaluate(int step, double epoch, Map<String, Double> metrics) {
                evaluations.put(step, epoch);
            }
        })) {
            recipe.setup();
            recipe.train();
        }
        assertThat(steps).as("2 passes of 2 rollout batches of 4 updates").hasSize(16);
        assertThat(steps.get(3).epoch())
                .as("after the first rollout batch: 16 of 32 prompts")
                .isEqualTo(0.5);
        assertThat(steps.get(7).epoch()).isEqualTo(1.0);
        assertThat(steps.get(15).epoch()).isEqualTo(2.0);
        assertThat(evaluations).as("one evaluation per pass over the prompts").isEqualTo(Map.of(8, 1.0, 16, 2.0));
        // The first step of each rollout batch samples and scores it; the other three reuse it.
        Duration sampling = Duration.ZERO;
        Duration reusing = Duration.ZERO;
        for (int i = 0; i < steps.size(); i++) {
            StepMetrics step = steps.get(i);
            assertThat(step.rolloutTime()).isLessThanOrEqualTo(step.stepTime());
            if (i % 4 == 0) {
                assertThat(step.rolloutTime())
                        .as("step %d samples a rollout batch", i + 1)
                        .isPositive();
                sampling = sampling.plus(step.rolloutTime());
            } else {
                reusing = reusing.plus(step.rolloutTime());
            }
        }
        assertThat(reusing).as("the steps that reuse a rollout batch").isLessThan(sampling.dividedBy(10));
    }

    @Test
    void badPpoSettingsAreRefusedNamingTheSetting() throws IOException {
        assertThatThrownBy(() -> job(dir.resolve("a")).with(Settings.CLIPRANGE, 0.0))
                .isInstanceOf(SettingException.class)
                .hasMessageContaining("cliprange must be > 0 and <= 1, got 0");
        assertThatThrownBy(() -> job(dir.resolve("b")).with(Settings.LAM, 1.5))
                .isInstanceOf(SettingException.class)
                .hasMessageContaining("lam must be in [0, 1], got 1.5");
        assertThatThrownBy(() -> job(dir.resolve("c")).with(Settings.TOP_K, 5))
                .isInstanceOf(SettingException.class)
                .hasMessageContaining("top_k cannot be used with objective ppo");
        assertThatThrownBy(() -> job(dir.resolve("d")).with(Settings.REWARD_FUNCS, List.of()))
                .isInstanceOf(SettingException.class)
                .hasMessageContaining("reward_funcs is required with objective ppo: name at least one of exact_match");
        assertThatThrownBy(() -> job(dir.resolve("e")).with(Settings.BETA, 0.1))
                .isInstanceOf(SettingException.class)
                .hasMessageContaining("beta cannot be used with objective ppo");
        assertThatThrownBy(() -> TrainConfig.of(
                        dir,
                        dir.resolve("x.jsonl"),
                        dir,
                        Method.FULL,
                        Objective.PPO,
                        SettingValues.none().with(Settings.REWARD_FUNCS, List.of(CONTAINS_A_NUMBER))))
                .isInstanceOf(SettingException.class)
                .hasMessageContaining("kl_coef 0.05 cannot be used with objective ppo and method full");
    }

    /** LoRA on every linear of a learnable tiny model; 16 prompts, completions of at most 6 tokens. */
    private TrainConfig job(Path output) throws IOException {
        Path model = dir.resolve("model");
        if (!Files.exists(model)) {
            TinyJob.learnable(model, 8);
        }
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 32; i++) {
            lines.add(CapitalsTask.json(CapitalsTask.ordered(
                    "prompt", "Write a number, " + CasePreferenceTask.training().get(i % 16))));
        }
        Path data = TinyJob.jsonl(dir.resolve("prompts.jsonl"), lines);
        SettingValues settings = SettingValues.none()
                .with(Settings.REWARD_FUNCS, List.of(CONTAINS_A_NUMBER))
                .with(Settings.LORA_TARGET_MODULES, List.of(LoraConfig.ALL_LINEAR))
                .with(Settings.LORA_R, 16)
                .with(Settings.LORA_ALPHA, 32.0)
                .with(Settings.LORA_DROPOUT, 0.0)
                .with(Settings.LEARNING_RATE, 5e-3)
                .with(Settings.PER_DEVICE_TRAIN_BATCH_SIZE, 8)
                .with(Settings.GRADIENT_ACCUMULATION_STEPS, 1)
                .with(Settings.NUM_MINI_BATCHES, 2)
                .with(Settings.NUM_PPO_EPOCHS, 2)
                .with(Settings.TEMPERATURE, 1.0)
                .with(Settings.RESPONSE_LENGTH, 6);
        return new TrainConfig(model, data, null, output, Method.LORA, Objective.PPO, true, settings);
    }
}
