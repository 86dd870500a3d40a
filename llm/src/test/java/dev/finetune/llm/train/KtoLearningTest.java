package dev.finetune.llm.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.finetune.events.Objective;
import dev.finetune.llm.lora.Adapters;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.objective.PreferencePair;
import dev.finetune.llm.objective.PreferenceScores;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * KTO on a tiny model (LoRA, reference = adapters off) from unpaired labelled completions of {@link
 * CasePreferenceTask} (each training word once, either desirable or undesirable): on held-out words the
 * implied reward (policy minus reference log-probability) has the label's sign for >= 90% of the
 * labelled completions, and the model prefers the desirable reply of >= 90% of held-out pairs, up
 * from what the untrained model does.
 */
class KtoLearningTest {
    private static final double TARGET_ACCURACY = 0.9;

    @TempDir
    Path dir;

    @Test
    void loraKtoGivesHeldOutCompletionsRewardsOfTheirLabelsSign() throws IOException {
        Path model = TinyJob.learnable(dir.resolve("model"), 8);
        Path data = TinyJob.jsonl(
                dir.resolve("labelled.jsonl"), CasePreferenceTask.unpairedLines(CasePreferenceTask.training()));
        TrainConfig config =
                TinyJob.learningLora(TrainConfig.of(model, data, dir.resolve("out"), Method.LORA, Objective.KTO));
        List<StepMetrics> steps = new ArrayList<>();
        try (PreferenceRecipe recipe = new PreferenceRecipe(config, steps::add)) {
            recipe.setup();
            assertThat(recipe.desirable()).hasSize(recipe.pairs().size()).contains(true, false);
            List<PreferencePair> heldOut = DpoLearningTest.heldOutPairs(recipe.tokenizer());
            CausalLm lm = recipe.model().model();
            PreferenceScores before = PreferenceScores.of(lm, heldOut, 8, recipe.padId());

            recipe.train();

            PreferenceScores after = PreferenceScores.of(lm, heldOut, 8, recipe.padId());
            PreferenceScores reference;
            try (Adapters.Switch off = recipe.model().reference()) {
                reference = PreferenceScores.of(lm, heldOut, 8, recipe.padId());
            }
            int rightSign = 0;
            for (int i = 0; i < heldOut.size(); i++) {
                rightSign += after.chosen()[i] > reference.chosen()[i] ? 1 : 0; // desirable: reward > 0
                rightSign += after.rejected()[i] < reference.rejected()[i] ? 1 : 0; // undesirable: reward < 0
            }
            double signAccuracy = rightSign / (2.0 * heldOut.size());
            System.out.printf(
                    "KTO held-out reward sign accuracy %.3f; preference accuracy %.3f -> %.3f%n",
                    signAccuracy, before.preferenceAccuracy(), after.preferenceAccuracy());
            assertThat(signAccuracy).isGreaterThanOrEqualTo(TARGET_ACCURACY);
            assertThat(after.preferenceAccuracy())
                    .isGreaterThanOrEqualTo(TARGET_ACCURACY)
                    .isGreaterThan(before.preferenceAccuracy());

            StepMetrics first = steps.get(0);
            StepMetrics last = steps.get(steps.size() - 1);
            assertThat(first.objectiveMetrics().get("kl"))
                    .as("policy = reference at step 1")
                    .isZero();
            assertThat(first.loss()).as("1 - sigmoid(0) for every example").isCloseTo(0.5, within(1e-6));
            assertThat(last.loss()).isLessThan(first.loss());
            assertThat(last.objectiveMetrics().get("rewards/margins")).isPositive();
        }
    }
}
