package dev.finetune.llm.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDScope;
import dev.finetune.events.Objective;
import dev.finetune.llm.lora.LoraConfig;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.objective.ChatEncoder;
import dev.finetune.llm.objective.GrpoBatch;
import dev.finetune.llm.settings.SettingException;
import dev.finetune.llm.settings.SettingValues;
import dev.finetune.llm.settings.Settings;
import dev.finetune.llm.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * GRPO with num_iterations 2 (TRL's mu): the second step optimises the first step's completions again,
 * its ratio taken to the log-probabilities of the policy that generated them. Checked on a tiny model
 * against the loss recomputed here from the checkpoint's completions, the generating policy (the base:
 * fresh LoRA adapters change nothing) and the policy after one step; a run resumed between the two steps
 * ends with the uninterrupted run's weights; the plan counts mu steps per batch of prompts.
 */
class GrpoIterationsTest {
    private static final double BETA = 0.04;
    private static final double EPSILON = 0.2;
    private static final double TEMPERATURE = 0.8;

    @TempDir
    Path dir;

    /** About 3 s: three runs of at most 2 steps of 16 completions. */
    @Test
    void secondIterationIsTheClippedLossToTheGeneratingPolicyAndResumesExactly() throws IOException {
        TrainConfig config = job(dir.resolve("straight"));
        List<StepMetrics> straight = new ArrayList<>();
        Map<String, float[]> straightWeights;
        try (Recipe recipe = Recipes.create(config, straight::add)) {
            recipe.setup();
            recipe.train();
            straightWeights = ResumeTest.snapshot(recipe.model().parameters());
        }
        assertThat(straight).hasSize(2);
        assertThat(straight.get(1).objectiveMetrics().get("reward"))
                .as("step 2 reports the rewards of the completions it reuses")
                .isEqualTo(straight.get(0).objectiveMetrics().get("reward"));

        TrainConfig interrupted = config.withOutputDir(dir.resolve("interrupted"));
        Recipe[] running = new Recipe[1];
        try (Recipe first = Recipes.create(interrupted, ResumeTest.stopAtFirstCheckpoint(running))) {
            running[0] = first;
            first.setup();
            assertThat(first.train().step()).isEqualTo(1);
        }
        Path saved = dir.resolve("interrupted/checkpoint-1/" + GrpoStep.FILE);
        assertThat(saved).exists();
        Map<String, float[]> generation = TensorFiles.read(saved);
        GrpoBatch batch = batchOf(config, generation);
        float[] savedOld = generation.get("old_logprobs");
        float[] advantages = generation.get("advantages");

        float[] base; // the generating policy's (fresh adapters: the base's) and the reference's
        try (CausalLm lm = CausalLm.load(config.model());
                NDScope ignored = new NDScope()) {
            base = batch.tokenLogProbs(lm, lm.manager().create((float) (1 / TEMPERATURE)), lm.manager())
                    .toFloatArray();
        }
        assertThat(savedOld).hasSize(base.length);
        float[][] mask = batch.completionMask();
        int width = mask[0].length;
        for (int i = 0; i < base.length; i++) {
            if (mask[i / width][i % width] != 0) { // elsewhere the next token may be padding (another pad id here)
                assertThat((double) savedOld[i]).as("old log-prob %d", i).isCloseTo(base[i], within(1e-4));
            }
        }

        List<StepMetrics> resumed = new ArrayList<>();
        Map<String, float[]> resumedWeights;
        float[] policy; // after step 1, dropout off
        try (Recipe second = Recipes.create(interrupted, resumed::add)) {
            second.setup();
            CausalLm lm = second.model().model();
            try (NDScope ignored = new NDScope()) {
                policy = batch.tokenLogProbs(lm, lm.manager().create((float) (1 / TEMPERATURE)), lm.manager())
                        .toFloatArray();
            }
            assertThat(second.train().resumedFrom()).isEqualTo(1);
            resumedWeights = ResumeTest.snapshot(second.model().parameters());
        }

        double sum = 0;
        int tokens = 0;
        double largestMove = 0;
        for (int row = 0; row < mask.length; row++) {
            for (int t = 0; t < width; t++) {
                if (mask[row][t] == 0) {
                    continue;
                }
                int at = row * width + t;
                double logp = policy[at];
                double ratio = Math.exp(logp - base[at]);
                double a = advantages[row];
                double clipped = Math.max(1 - EPSILON, Math.min(1 + EPSILON, ratio));
                double delta = base[at] - logp; // reference - policy
                double kl = Math.exp(delta) - delta - 1;
                sum += -Math.min(ratio * a, clipped * a) + BETA * kl;
                tokens++;
                largestMove = Math.max(largestMove, Math.abs(logp - base[at]));
            }
        }
        double expected = sum / tokens; // loss_type dapo: over the step's completion tokens
        assertThat(largestMove)
                .as("step 1 moved the policy: the ratio is not 1")
                .isGreaterThan(1e-2);
        assertThat(resumed).hasSize(1);
        assertThat(resumed.get(0).loss()).as("step 2's loss").isCloseTo(expected, within(1e-4));
        assertThat(resumed.get(0).loss()).isEqualTo(straight.get(1).loss());
        assertThat(resumed.get(0).objectiveMetrics()).isEqualTo(straight.get(1).objectiveMetrics());
        assertThat(ResumeTest.maxDifference(straightWeights, resumedWeights)).isZero();
    }

    @Test
    void eachBatchOfPromptsCountsNumIterationsStepsAndBadValuesAreRefused() throws IOException {
        TrainConfig config = job(dir.resolve("plan"))
                .with(Settings.MAX_STEPS, -1)
                .with(Settings.NUM_TRAIN_EPOCHS, 1.0)
                .with(Settings.NUM_ITERATIONS, 3);
        BatchPlan plan = config.grpo().plan(16, config.training());
        assertThat(plan.totalSteps()).as("8 batches of 2 prompts, 3 steps each").isEqualTo(24);
        assertThat(plan.epochsAfter(12)).isEqualTo(0.5);
        assertThat(plan.microBatches(3).get(0))
                .as("steps 4 to 6 optimise the same batch of prompts")
                .isEqualTo(plan.microBatches(5).get(0))
                .isNotEqualTo(plan.microBatches(6).get(0));

        assertThatThrownBy(() -> job(dir.resolve("a")).with(Settings.NUM_ITERATIONS, 0))
                .isInstanceOf(SettingException.class)
                .hasMessageContaining("num_iterations must be in [1, 1024], got 0");
        assertThatThrownBy(() -> job(dir.resolve("b")).with(Settings.NUM_ITERATIONS, 5000))
                .isInstanceOf(SettingException.class)
                .hasMessageContaining("num_iterations must be in [1, 1024], got 5000");
    }

    /** The first step's prompts (2, each 8 times) and the completions the checkpoint holds. */
    private static GrpoBatch batchOf(TrainConfig config, Map<String, float[]> generation) throws IOException {
        List<Rollouts.Prompt> prompts;
        try (Tokenizer tokenizer = Tokenizer.load(config.model())) {
            GrpoConfig grpo = config.grpo();
            prompts = Rollouts.Prompt.read(
                    new ChatEncoder(tokenizer, Map.of()), config.trainFile(), grpo.rewards(), grpo.maxPromptLength());
        }
        int[] first = config.grpo()
                .plan(prompts.size(), config.training())
                .microBatches(0)
                .get(0);
        float[] lengths = generation.get("lengths");
        float[] tokens = generation.get("completions");
        List<long[]> rows = new ArrayList<>();
        List<long[]> completions = new ArrayList<>();
        int at = 0;
        for (int r = 0; r < lengths.length; r++) {
            rows.add(prompts.get(first[r / 8]).tokens());
            long[] completion = new long[(int) lengths[r]];
            for (int t = 0; t < completion.length; t++) {
                completion[t] = (long) tokens[at++];
            }
            completions.add(completion);
        }
        return GrpoBatch.of(rows, completions, 0);
    }

    /** LoRA on every linear of a learnable tiny model; 2 prompts x 8 completions of at most 6 tokens a step. */
    private TrainConfig job(Path output) throws IOException {
        Path model = dir.resolve("model");
        if (!Files.exists(model)) {
            TinyJob.learnable(model, 8);
        }
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            lines.add(CapitalsTask.json(CapitalsTask.ordered(
                    "prompt", "Write a number, " + CasePreferenceTask.training().get(i))));
        }
        Path data = TinyJob.jsonl(dir.resolve("prompts.jsonl"), lines);
        SettingValues settings = SettingValues.none()
                .with(Settings.REWARD_FUNCS, List.of("regex:[0-9]"))
                .with(Settings.LORA_TARGET_MODULES, List.of(LoraConfig.ALL_LINEAR))
                .with(Settings.LORA_R, 16)
                .with(Settings.LORA_ALPHA, 32.0)
                .with(Settings.LORA_DROPOUT, 0.0)
                .with(Settings.LEARNING_RATE, 3e-2)
                .with(Settings.NUM_GENERATIONS, 8)
                .with(Settings.PER_DEVICE_TRAIN_BATCH_SIZE, 16)
                .with(Settings.MAX_COMPLETION_LENGTH, 6)
                .with(Settings.BETA, BETA)
                .with(Settings.EPSILON, EPSILON)
                .with(Settings.TEMPERATURE, TEMPERATURE) // the log-probabilities below are of logits / 0.8
                .with(Settings.NUM_ITERATIONS, 2)
                .with(Settings.MAX_STEPS, 2)
                .with(Settings.SAVE_STEPS, 1);
        return new TrainConfig(model, data, null, output, Method.LORA, Objective.GRPO, true, settings);
    }
}
