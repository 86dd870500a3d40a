package dev.finetune.llm.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.finetune.events.Objective;
import dev.finetune.llm.lora.Adapters;
import dev.finetune.llm.lora.LoraConfig;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.objective.ChatEncoder;
import dev.finetune.llm.objective.DpoLoss;
import dev.finetune.llm.objective.DpoLossType;
import dev.finetune.llm.objective.PreferencePair;
import dev.finetune.llm.objective.PreferenceScores;
import dev.finetune.llm.settings.Settings;
import dev.finetune.llm.tokenizer.ChatMessage;
import dev.finetune.llm.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * DPO on a tiny model raises preference accuracy on held-out pairs: the trained policy prefers the
 * chosen reply of >= 90% of unseen pairs, and its implicit reward (against the reference) is larger
 * for the chosen reply of >= 90%, with LoRA (reference = adapters off) and full fine-tuning
 * (reference = precomputed from the initial weights); and every loss type lowers its loss.
 */
class DpoLearningTest {
    private static final double TARGET_ACCURACY = 0.9;
    private static final double BETA = 0.1;
    /** 32 training pairs in batches of 8. */
    private static final int EPOCH_STEPS = 4;

    @TempDir
    Path dir;

    @Test
    void loraDpoRaisesHeldOutPreferenceAccuracy() throws IOException {
        assertDpoLearns(TinyJob.learningLora(job(Method.LORA, 1e-2)));
    }

    @Test
    void fullDpoRaisesHeldOutPreferenceAccuracy() throws IOException {
        assertDpoLearns(job(Method.FULL, 1e-3));
    }

    /**
     * Every loss type trains: at step 1 (policy = reference, margin 0) the loss is the type's value at
     * 0, and over two epochs of the same 32 pairs the second epoch's mean loss is below the first's.
     */
    @ParameterizedTest(name = "{0}, label_smoothing {1}")
    @CsvSource({"sigmoid, 0.1, 0.6931472", "robust, 0.1, 0.6931472", "hinge, 0, 1", "ipo, 0, 25"})
    void everyLossTypeLowersItsLoss(String lossType, double labelSmoothing, double lossAtZeroMargin)
            throws IOException {
        TrainConfig config = job(Method.LORA, 1e-2)
                .with(Settings.LORA_TARGET_MODULES, List.of(LoraConfig.ALL_LINEAR))
                .with(Settings.LOSS_TYPE, DpoLossType.parse(lossType))
                .with(Settings.LABEL_SMOOTHING, labelSmoothing)
                .with(Settings.MAX_STEPS, 2 * EPOCH_STEPS);
        List<StepMetrics> steps = new ArrayList<>();
        try (PreferenceRecipe recipe = new PreferenceRecipe(config, steps::add)) {
            recipe.setup();
            recipe.train();
        }
        assertThat(steps).hasSize(2 * EPOCH_STEPS);
        assertThat(steps.get(0).loss()).as(lossType).isCloseTo(lossAtZeroMargin, within(1e-4));
        double first = steps.subList(0, EPOCH_STEPS).stream()
                .mapToDouble(StepMetrics::loss)
                .average()
                .orElseThrow();
        double second = steps.subList(EPOCH_STEPS, 2 * EPOCH_STEPS).stream()
                .mapToDouble(StepMetrics::loss)
                .average()
                .orElseThrow();
        assertThat(second).as(lossType + " second epoch's mean loss").isLessThan(first);
    }

    private void assertDpoLearns(TrainConfig config) throws IOException {
        List<StepMetrics> steps = new ArrayList<>();
        try (PreferenceRecipe recipe = new PreferenceRecipe(config, steps::add)) {
            recipe.setup();
            List<PreferencePair> heldOut = heldOutPairs(recipe.tokenizer());
            CausalLm model = recipe.model().model();
            PreferenceScores before = PreferenceScores.of(model, heldOut, 8, recipe.padId());

            recipe.train();

            PreferenceScores after = PreferenceScores.of(model, heldOut, 8, recipe.padId());
            PreferenceScores reference = referenceScores(recipe, config, heldOut);
            DpoLoss.Statistics rewards = config.dpo()
                    .loss(model.manager())
                    .statistics(after.chosen(), after.rejected(), reference.chosen(), reference.rejected());
            String method = config.method().configName();
            assertThat(after.preferenceAccuracy())
                    .as(method)
                    .isGreaterThanOrEqualTo(TARGET_ACCURACY)
                    .isGreaterThan(before.preferenceAccuracy());
            assertThat(rewards.accuracy()).as(method).isGreaterThanOrEqualTo(TARGET_ACCURACY);
            assertThat(rewards.margin()).as(method).isPositive();

            StepMetrics first = steps.get(0);
            StepMetrics last = steps.get(steps.size() - 1);
            assertThat(first.objectiveMetrics().get("rewards/accuracies"))
                    .as("policy = reference at step 1")
                    .isZero();
            assertThat(first.loss()).isCloseTo(Math.log(2), org.assertj.core.data.Offset.offset(1e-4));
            assertThat(last.loss()).isLessThan(first.loss() / 2);
            assertThat(last.objectiveMetrics().get("rewards/margins")).isPositive();
        }
    }

    /** The reference model's scores: adapters off for LoRA, the initial weights reloaded for full. */
    private static PreferenceScores referenceScores(
            PreferenceRecipe recipe, TrainConfig config, List<PreferencePair> pairs) throws IOException {
        if (recipe.model().adapters().isPresent()) {
            try (Adapters.Switch off = recipe.model().reference()) {
                return PreferenceScores.of(recipe.model().model(), pairs, 8, recipe.padId());
            }
        }
        try (CausalLm initial = CausalLm.load(config.model())) {
            return PreferenceScores.of(initial, pairs, 8, recipe.padId());
        }
    }

    static List<PreferencePair> heldOutPairs(Tokenizer tokenizer) {
        ChatEncoder encoder = new ChatEncoder(tokenizer, Map.of());
        List<PreferencePair> pairs = new ArrayList<>();
        for (String word : CasePreferenceTask.heldOut()) {
            pairs.add(encoder.preference(
                    List.of(ChatMessage.user("Repeat: " + word)),
                    List.of(ChatMessage.assistant(word)),
                    List.of(ChatMessage.assistant(word.toUpperCase(Locale.ROOT))),
                    512,
                    1024));
        }
        return pairs;
    }

    private TrainConfig job(Method method, double learningRate) throws IOException {
        Path model = TinyJob.learnable(dir.resolve("model"), 8);
        Path data = TinyJob.jsonl(dir.resolve("pairs.jsonl"), CasePreferenceTask.lines(CasePreferenceTask.training()));
        return TrainConfig.of(model, data, dir.resolve("out"), method, Objective.DPO)
                .with(Settings.BETA, BETA)
                .with(Settings.LEARNING_RATE, learningRate)
                .with(Settings.NUM_TRAIN_EPOCHS, 10.0);
    }
}
