package dev.finetune.llm.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.events.Objective;
import dev.finetune.llm.checkpoint.SafetensorsReader;
import dev.finetune.llm.inference.RewardModel;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.objective.PreferencePair;
import dev.finetune.llm.objective.RewardLoss;
import dev.finetune.llm.peft.AdapterConfigJson;
import dev.finetune.llm.peft.PeftAdapter;
import dev.finetune.llm.settings.SettingException;
import dev.finetune.llm.settings.Settings;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reward model training end to end on a tiny model: on {@link CasePreferenceTask} (the chosen reply is
 * the word in lower case, the rejected one in upper case) the held-out pairs' accuracy rises from about
 * chance to >= 90%; the exported model (a PEFT SEQ_CLS adapter, or a HF sequence-classification
 * checkpoint) loads back through {@link RewardModel} with the trained model's scores.
 */
class RewardTrainingTest {
    private static final double TARGET_ACCURACY = 0.9;
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void loraRewardModelRanksHeldOutChosenRepliesAboveRejectedAndItsAdapterLoadsBack() throws IOException {
        Path model = TinyJob.learnable(dir.resolve("model"), 8);
        Path data = TinyJob.jsonl(dir.resolve("pairs.jsonl"), CasePreferenceTask.lines(CasePreferenceTask.training()));
        TrainConfig config = TinyJob.learningLora(
                        TrainConfig.of(model, data, dir.resolve("out"), Method.LORA, Objective.REWARD))
                .with(Settings.NUM_TRAIN_EPOCHS, 5.0);
        List<StepMetrics> steps = new ArrayList<>();
        try (PreferenceRecipe recipe = new PreferenceRecipe(config, steps::add)) {
            recipe.setup();
            List<PreferencePair> heldOut = DpoLearningTest.heldOutPairs(recipe.tokenizer());
            CausalLm lm = recipe.model().model();
            RewardModel inMemory = RewardModel.of(lm, recipe.padId()); // the recipe closes the model
            double before = accuracy(inMemory.scores(sequences(heldOut)), heldOut.size());

            TrainResult result = recipe.train();

            double[] trained = inMemory.scores(sequences(heldOut));
            double after = accuracy(trained, heldOut.size());
            Map<String, Double> evaluation = new RewardStep(
                            List.of(),
                            new double[0],
                            recipe.padId(),
                            new RewardLoss(0, lm.manager()),
                            heldOut,
                            new double[heldOut.size()],
                            5)
                    .evaluate(lm);
            System.out.printf("reward held-out accuracy %.3f -> %.3f, eval %s%n", before, after, evaluation);
            assertThat(after).isGreaterThanOrEqualTo(TARGET_ACCURACY).isGreaterThan(before + 0.2);
            assertThat(evaluation.get("eval_accuracy")).isCloseTo(after, within(1e-9));
            assertThat(evaluation.get("eval_margin")).isPositive();
            StepMetrics first = steps.get(0);
            StepMetrics last = steps.get(steps.size() - 1);
            assertThat(last.loss()).isLessThan(first.loss());
            assertThat(last.objectiveMetrics())
                    .containsKeys("accuracy", "margin", "min_reward", "mean_reward", "max_reward");

            Path adapter = result.output();
            JsonNode adapterConfig =
                    JSON.readTree(adapter.resolve(AdapterConfigJson.FILE_NAME).toFile());
            assertThat(adapterConfig.get("task_type").asText()).isEqualTo("SEQ_CLS");
            assertThat(adapterConfig.get("modules_to_save").toString()).isEqualTo("[\"score\"]");
            try (SafetensorsReader weights = SafetensorsReader.open(adapter.resolve(PeftAdapter.WEIGHTS_FILE))) {
                assertThat(weights.names()).contains("base_model.model.score.weight");
                assertThat(weights.info("base_model.model.score.weight").shape())
                        .containsExactly(1, lm.config().hiddenSize());
            }
            try (RewardModel loaded = RewardModel.load(model, adapter)) {
                assertThat(loaded.padId()).isEqualTo(recipe.padId());
                assertThat(loaded.scores(sequences(heldOut), 3)).containsExactly(trained, within(1e-5));
            }
        }
    }

    @Test
    void fullRewardModelExportsASequenceClassifierThatLoadsBackWithTheSameScores() throws IOException {
        Path model = TinyJob.model(dir.resolve("model"), 3);
        Path data = TinyJob.jsonl(dir.resolve("pairs.jsonl"), CasePreferenceTask.lines(CasePreferenceTask.training()));
        TrainConfig config = TrainConfig.of(model, data, dir.resolve("out"), Method.FULL, Objective.REWARD)
                .with(Settings.MAX_STEPS, 3)
                .with(Settings.LEARNING_RATE, 1e-3);
        try (PreferenceRecipe recipe = new PreferenceRecipe(config, TrainingListener.NONE)) {
            recipe.setup();
            TrainResult result = recipe.train();
            List<PreferencePair> heldOut = DpoLearningTest.heldOutPairs(recipe.tokenizer());
            double[] trained =
                    RewardModel.of(recipe.model().model(), recipe.padId()).scores(sequences(heldOut));

            Path exported = result.output();
            JsonNode configJson = JSON.readTree(exported.resolve("config.json").toFile());
            assertThat(configJson.get("architectures").toString()).isEqualTo("[\"LlamaForSequenceClassification\"]");
            assertThat(configJson.get("id2label").toString()).isEqualTo("{\"0\":\"LABEL_0\"}");
            assertThat(configJson.get("label2id").toString()).isEqualTo("{\"LABEL_0\":0}");
            assertThat(configJson.get("pad_token_id").asLong()).isEqualTo(recipe.padId());
            try (SafetensorsReader weights = SafetensorsReader.open(exported.resolve("model.safetensors"))) {
                assertThat(weights.names()).contains("score.weight", "model.embed_tokens.weight");
                assertThat(weights.names()).doesNotContain("lm_head.weight");
            }
            try (RewardModel loaded = RewardModel.load(exported)) {
                assertThat(loaded.padId()).isEqualTo(recipe.padId());
                assertThat(loaded.scores(sequences(heldOut), 4)).containsExactly(trained, within(1e-5));
            }
        }
    }

    @Test
    void centerRewardsCoefficientIsRefusedOutOfRangeAndWithOtherObjectives() {
        Path model = dir.resolve("model");
        Path data = dir.resolve("pairs.jsonl");
        TrainConfig reward = TrainConfig.of(model, data, dir.resolve("out"), Method.LORA, Objective.REWARD);
        assertThatThrownBy(() -> reward.with(Settings.CENTER_REWARDS_COEFFICIENT, -0.5))
                .isInstanceOf(SettingException.class)
                .hasMessageContaining("center_rewards_coefficient")
                .hasMessageContaining("-0.5");
        TrainConfig dpo = TrainConfig.of(model, data, dir.resolve("out"), Method.LORA, Objective.DPO);
        assertThatThrownBy(() -> dpo.with(Settings.CENTER_REWARDS_COEFFICIENT, 0.01))
                .isInstanceOf(SettingException.class)
                .hasMessageContaining("center_rewards_coefficient 0.01")
                .hasMessageContaining("objective dpo");
        assertThat(reward.with(Settings.CENTER_REWARDS_COEFFICIENT, 0.01).setting(Settings.CENTER_REWARDS_COEFFICIENT))
                .isEqualTo(0.01);
    }

    @Test
    void aMarginThatIsNotANumberIsReportedWithItsLine() throws IOException {
        List<String> lines = new ArrayList<>(
                CasePreferenceTask.lines(CasePreferenceTask.training().subList(0, 2)));
        lines.set(1, lines.get(1).replaceFirst("\\}$", ",\"margin\":\"wide\"}"));
        lines.set(0, lines.get(0).replaceFirst("\\}$", ",\"margin\":1.5}"));
        Path data = TinyJob.jsonl(dir.resolve("pairs.jsonl"), lines);
        assertThatThrownBy(() -> ChatDatasets.preferences(data))
                .isInstanceOf(DatasetException.class)
                .hasMessageContaining(":2")
                .hasMessageContaining("'margin' must be a finite number, got \"wide\"");
        lines.remove(1);
        Path valid = TinyJob.jsonl(dir.resolve("valid.jsonl"), lines);
        assertThat(ChatDatasets.preferences(valid).get(0).margin()).isEqualTo(1.5);
    }

    private static List<long[]> sequences(List<PreferencePair> pairs) {
        List<long[]> sequences = new ArrayList<>();
        pairs.forEach(pair -> sequences.add(pair.chosenSequence()));
        pairs.forEach(pair -> sequences.add(pair.rejectedSequence()));
        return sequences;
    }

    /** The share of pairs whose chosen score (first half) is above the rejected one (second half). */
    private static double accuracy(double[] scores, int pairs) {
        int correct = 0;
        for (int i = 0; i < pairs; i++) {
            correct += scores[i] > scores[pairs + i] ? 1 : 0;
        }
        return (double) correct / pairs;
    }
}
