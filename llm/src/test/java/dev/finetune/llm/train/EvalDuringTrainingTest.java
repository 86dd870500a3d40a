package dev.finetune.llm.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import dev.finetune.events.Objective;
import dev.finetune.llm.inference.Scorer;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.model.GradientMode;
import dev.finetune.llm.objective.ChatEncoder;
import dev.finetune.llm.objective.PreferencePair;
import dev.finetune.llm.objective.SftBatch;
import dev.finetune.llm.objective.SftLoss;
import dev.finetune.llm.objective.TrainingSequence;
import dev.finetune.llm.peft.PeftAdapter;
import dev.finetune.llm.settings.SettingException;
import dev.finetune.llm.settings.SettingValues;
import dev.finetune.llm.settings.Settings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Evaluation of the validation split during training (eval_strategy), the best checkpoint, early
 * stopping and load_best_model_at_end, on the tiny capitals task (held-out questions as validation).
 */
class EvalDuringTrainingTest {
    @TempDir
    Path dir;

    @Test
    void validationLossEqualsTheSftLossOfTheValidationExamples() throws IOException {
        TrainConfig config = job(
                "exact",
                SettingValues.none()
                        .with(Settings.LEARNING_RATE, 1e-2)
                        .with(Settings.MAX_STEPS, 4)
                        .with(Settings.SAVE_STEPS, 2)
                        .with(Settings.EVAL_STRATEGY, EvalStrategy.STEPS)
                        .with(Settings.EVAL_STEPS, 2));
        List<Map<String, Double>> evaluations = new ArrayList<>();
        try (SftRecipe recipe = new SftRecipe(config, evaluationsInto(evaluations))) {
            recipe.setup();
            TrainResult result = recipe.train();
            assertThat(result.step()).isEqualTo(4);
            // the weights are the last step's, the one the last evaluation saw
            double independent = meanValidationNll(recipe);
            assertThat(evaluations).hasSize(2);
            assertThat(evaluations.get(1).get("eval_loss")).isCloseTo(independent, within(1e-6));
            assertThat(evaluations.get(0).get("eval_loss"))
                    .as("training between the evaluations moved the validation loss")
                    .isNotCloseTo(independent, within(1e-3));
        }
        TrainerState last = TrainerState.read(config.outputDir().resolve("checkpoint-4/trainer_state.json"));
        assertThat(last.logHistory()).extracting(e -> e.get("step")).containsExactly(2, 4);
        assertThat(((Number) last.logHistory().get(1).get("eval_loss")).doubleValue())
                .isEqualTo(evaluations.get(1).get("eval_loss"));
        assertThat(last.bestMetric())
                .isEqualTo(Math.min(
                        evaluations.get(0).get("eval_loss"), evaluations.get(1).get("eval_loss")));
    }

    /**
     * DPO's eval_loss is the mean sigmoid DPO loss of the validation pairs against the adapters-off
     * reference, and eval_rewards/accuracies the share whose chosen reward is larger: recomputed here
     * from {@link Scorer}'s completion log-probabilities and the DPO paper's formula.
     */
    @Test
    @SuppressWarnings("try")
    void dpoValidationLossAndAccuracyEqualTheFormulaOnScorersLogProbabilities() throws IOException {
        Path model = TinyJob.learnable(dir.resolve("model"), 5);
        Path train = TinyJob.jsonl(dir.resolve("pairs.jsonl"), CasePreferenceTask.lines(CasePreferenceTask.training()));
        Path validation = TinyJob.jsonl(
                dir.resolve("validation-pairs.jsonl"), CasePreferenceTask.lines(CasePreferenceTask.heldOut()));
        TrainConfig config = TrainConfig.of(model, train, dir.resolve("dpo"), Method.LORA, Objective.DPO)
                .withValidationFile(validation)
                .withSettings(SettingValues.none()
                        .with(Settings.LEARNING_RATE, 1e-2)
                        .with(Settings.PER_DEVICE_TRAIN_BATCH_SIZE, 4)
                        .with(Settings.MAX_STEPS, 3)
                        .with(Settings.EVAL_STRATEGY, EvalStrategy.STEPS)
                        .with(Settings.EVAL_STEPS, 3));
        List<Map<String, Double>> evaluations = new ArrayList<>();
        try (PreferenceRecipe recipe = new PreferenceRecipe(config, evaluationsInto(evaluations))) {
            recipe.setup();
            recipe.train();
            ChatEncoder encoder = new ChatEncoder(recipe.tokenizer(), Map.of());
            List<long[]> prompts = new ArrayList<>();
            List<long[]> chosen = new ArrayList<>();
            List<long[]> rejected = new ArrayList<>();
            for (ChatDatasets.Preference p : ChatDatasets.preferences(validation)) {
                PreferencePair pair = encoder.preference(p.prompt(), p.chosen(), p.rejected(), 512, 1024);
                prompts.add(pair.prompt());
                chosen.add(pair.chosen());
                rejected.add(pair.rejected());
            }
            CausalLm lm = recipe.model().model();
            double[] policyChosen = Scorer.completionLogProbs(lm, prompts, chosen);
            double[] policyRejected = Scorer.completionLogProbs(lm, prompts, rejected);
            double[] referenceChosen;
            double[] referenceRejected;
            try (var off = recipe.model().reference()) {
                referenceChosen = Scorer.completionLogProbs(lm, prompts, chosen);
                referenceRejected = Scorer.completionLogProbs(lm, prompts, rejected);
            }
            double beta = 0.1;
            double loss = 0;
            int correct = 0;
            for (int i = 0; i < prompts.size(); i++) {
                double margin = (policyChosen[i] - referenceChosen[i]) - (policyRejected[i] - referenceRejected[i]);
                loss += Math.log1p(Math.exp(-beta * margin)); // -log sigmoid(beta * margin)
                correct += margin > 0 ? 1 : 0;
            }
            assertThat(evaluations).hasSize(1);
            Map<String, Double> metrics = evaluations.get(0);
            assertThat(metrics.get("eval_loss")).isCloseTo(loss / prompts.size(), within(1e-6));
            assertThat(metrics.get("eval_rewards/accuracies")).isEqualTo((double) correct / prompts.size());
            assertThat(metrics.get("eval_loss"))
                    .as("training moved the policy away from the reference")
                    .isNotCloseTo(Math.log(2), within(1e-4));
        }
    }

    /**
     * ORPO evaluates its validation pairs during training: the completions' mean log-probabilities
     * (eval_logps/chosen, eval_logps/rejected) and the accuracy equal {@link Scorer}'s on the trained
     * model, and eval_loss is the NLL plus beta times the odds-ratio term (GradientParityTest checks the
     * loss itself against ORPO written out).
     */
    @Test
    void orpoEvaluatesTheValidationPairsDuringTraining() throws IOException {
        Path model = TinyJob.learnable(dir.resolve("model"), 5);
        Path train = TinyJob.jsonl(dir.resolve("pairs.jsonl"), CasePreferenceTask.lines(CasePreferenceTask.training()));
        Path validation = TinyJob.jsonl(
                dir.resolve("validation-pairs.jsonl"), CasePreferenceTask.lines(CasePreferenceTask.heldOut()));
        TrainConfig config = TrainConfig.of(model, train, dir.resolve("orpo"), Method.LORA, Objective.ORPO)
                .withValidationFile(validation)
                .withSettings(SettingValues.none()
                        .with(Settings.LEARNING_RATE, 1e-2)
                        .with(Settings.PER_DEVICE_TRAIN_BATCH_SIZE, 4)
                        .with(Settings.MAX_STEPS, 3)
                        .with(Settings.EVAL_STRATEGY, EvalStrategy.STEPS)
                        .with(Settings.EVAL_STEPS, 3));
        List<Map<String, Double>> evaluations = new ArrayList<>();
        try (PreferenceRecipe recipe = new PreferenceRecipe(config, evaluationsInto(evaluations))) {
            recipe.setup();
            recipe.train();
            ChatEncoder encoder = new ChatEncoder(recipe.tokenizer(), Map.of());
            List<long[]> prompts = new ArrayList<>();
            List<long[]> chosen = new ArrayList<>();
            List<long[]> rejected = new ArrayList<>();
            for (ChatDatasets.Preference p : ChatDatasets.preferences(validation)) {
                PreferencePair pair = encoder.preference(p.prompt(), p.chosen(), p.rejected(), 512, 1024);
                prompts.add(pair.prompt());
                chosen.add(pair.chosen());
                rejected.add(pair.rejected());
            }
            CausalLm lm = recipe.model().model();
            double[] chosenSums = Scorer.completionLogProbs(lm, prompts, chosen);
            double[] rejectedSums = Scorer.completionLogProbs(lm, prompts, rejected);
            double chosenMean = 0;
            double rejectedMean = 0;
            int correct = 0;
            for (int i = 0; i < prompts.size(); i++) {
                double c = chosenSums[i] / chosen.get(i).length;
                double r = rejectedSums[i] / rejected.get(i).length;
                chosenMean += c / prompts.size();
                rejectedMean += r / prompts.size();
                correct += c > r ? 1 : 0;
            }
            double beta = config.setting(Settings.BETA);
            assertThat(evaluations).hasSize(1);
            Map<String, Double> metrics = evaluations.get(0);
            assertThat(metrics.get("eval_logps/chosen")).isCloseTo(chosenMean, within(1e-4));
            assertThat(metrics.get("eval_logps/rejected")).isCloseTo(rejectedMean, within(1e-4));
            assertThat(metrics.get("eval_rewards/accuracies")).isEqualTo((double) correct / prompts.size());
            assertThat(metrics.get("eval_nll_loss")).isPositive();
            assertThat(metrics.get("eval_loss"))
                    .isCloseTo(metrics.get("eval_nll_loss") - beta * metrics.get("eval_log_odds_ratio"), within(1e-9));
        }
    }

    /**
     * With a threshold no evaluation can beat, every evaluation after the first counts against the
     * patience: evaluations at 1 (the first best), 2 (1 without improvement), 3 (2: stop).
     */
    @Test
    void earlyStoppingStopsWhenPatienceEvaluationsInARowDidNotImprove() throws IOException {
        TrainConfig config = job(
                "threshold",
                SettingValues.none()
                        .with(Settings.MAX_STEPS, 10)
                        .with(Settings.SAVE_STEPS, 5)
                        .with(Settings.EVAL_STRATEGY, EvalStrategy.STEPS)
                        .with(Settings.EVAL_STEPS, 1)
                        .with(Settings.EARLY_STOPPING_PATIENCE, 2)
                        .with(Settings.EARLY_STOPPING_THRESHOLD, 1000.0));
        TrainResult result = train(config);
        assertThat(result.step()).isEqualTo(3);
        assertThat(result.stoppedEarly()).isTrue();
        assertThat(result.completed()).isTrue();
        assertThat(result.output()).isNotNull();
        TrainerState state = TrainerState.read(config.outputDir().resolve("checkpoint-3/trainer_state.json"));
        assertThat(state.logHistory()).extracting(e -> e.get("step")).containsExactly(1, 2, 3);
        assertThat(state.earlyStoppingPatienceCounter()).isEqualTo(2);
    }

    /** A learning rate far too large makes the validation loss rise after a few steps; training stops there. */
    @Test
    void earlyStoppingStopsADivergingRunWhereThePatienceRuleSays() throws IOException {
        int patience = 2;
        TrainConfig config = job(
                "diverging",
                diverging(12).with(Settings.EARLY_STOPPING_PATIENCE, patience).with(Settings.SAVE_STEPS, 12));
        TrainResult result = train(config);
        TrainerState state =
                TrainerState.read(config.outputDir().resolve("checkpoint-" + result.step() + "/trainer_state.json"));
        List<Double> losses = state.logHistory().stream()
                .map(e -> ((Number) e.get("eval_loss")).doubleValue())
                .toList();
        assertThat(result.stoppedEarly()).as("validation losses %s", losses).isTrue();
        assertThat(result.step()).isLessThan(12);
        // the rule, independently: stop at the first evaluation that ends `patience` in a row without a new minimum
        int expected = -1;
        double best = Double.POSITIVE_INFINITY;
        int withoutImprovement = 0;
        for (int i = 0; i < losses.size() && expected < 0; i++) {
            if (losses.get(i) < best) {
                best = losses.get(i);
                withoutImprovement = 0;
            } else if (++withoutImprovement == patience) {
                expected = i + 1; // an evaluation every step
            }
        }
        assertThat(result.step()).as("validation losses %s", losses).isEqualTo(expected);
        assertThat(state.bestMetric()).isEqualTo(best);
    }

    /**
     * The result of a diverging run is the best evaluated step's adapter, bit for bit that step's
     * checkpoint, which save_total_limit 1 kept beside the newest.
     */
    @Test
    void loadBestModelAtEndExportsTheBestCheckpointsWeights() throws IOException {
        TrainConfig config = job(
                "best",
                diverging(6)
                        .with(Settings.SAVE_STEPS, 2)
                        .with(Settings.SAVE_TOTAL_LIMIT, 1)
                        .with(Settings.LOAD_BEST_MODEL_AT_END, true));
        TrainResult result = train(config);
        assertThat(result.step()).isEqualTo(6);
        Path best = result.bestCheckpoint();
        assertThat(best).isNotNull();
        assertThat(best.getFileName().toString())
                .as("the run diverged: its best step is not its last")
                .isNotEqualTo("checkpoint-6");
        assertThat(TrainingCheckpoints.isComplete(best)).isTrue();
        TrainerState last = TrainerState.read(config.outputDir().resolve("checkpoint-6/trainer_state.json"));
        assertThat(last.bestModelCheckpoint()).isEqualTo(best.toString());
        assertThat(last.bestMetric()).isEqualTo(result.bestMetric());

        Map<String, float[]> exported = TensorFiles.read(result.output().resolve(PeftAdapter.WEIGHTS_FILE));
        Map<String, float[]> bestWeights = TensorFiles.read(best.resolve(PeftAdapter.WEIGHTS_FILE));
        Map<String, float[]> lastWeights =
                TensorFiles.read(config.outputDir().resolve("checkpoint-6").resolve(PeftAdapter.WEIGHTS_FILE));
        assertThat(exported.keySet()).isEqualTo(bestWeights.keySet());
        for (String name : exported.keySet()) {
            assertThat(Arrays.equals(exported.get(name), bestWeights.get(name)))
                    .as(name)
                    .isTrue();
        }
        assertThat(exported.keySet().stream().anyMatch(n -> !Arrays.equals(exported.get(n), lastWeights.get(n))))
                .as("the last step's weights differ from the best's")
                .isTrue();
        try (var files = Files.list(config.outputDir())) {
            assertThat(files.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("checkpoint-")))
                    .containsExactlyInAnyOrder(
                            "checkpoint-6", best.getFileName().toString());
        }
    }

    @Test
    void loadBestModelAtEndIsRefusedUnlessEvaluationsMatchTheSaves() {
        SettingValues epoch = SettingValues.none()
                .with(Settings.EVAL_STRATEGY, EvalStrategy.EPOCH)
                .with(Settings.LOAD_BEST_MODEL_AT_END, true);
        assertThatThrownBy(() -> TrainConfig.checkCombination(Method.LORA, epoch))
                .isInstanceOf(SettingException.class)
                .hasMessage("load_best_model_at_end requires the save and eval strategies to match: checkpoints"
                        + " are saved every save_steps steps, so eval_strategy must be steps, got eval_strategy"
                        + " epoch");
        SettingValues offBeat = SettingValues.none()
                .with(Settings.EVAL_STRATEGY, EvalStrategy.STEPS)
                .with(Settings.EVAL_STEPS, 3)
                .with(Settings.SAVE_STEPS, 10)
                .with(Settings.LOAD_BEST_MODEL_AT_END, true);
        assertThatThrownBy(() -> TrainConfig.checkCombination(Method.LORA, offBeat))
                .isInstanceOf(SettingException.class)
                .hasMessage("load_best_model_at_end requires save_steps to be a round multiple of eval_steps, got"
                        + " save_steps 10 and eval_steps 3");
        SettingValues noEvaluations = SettingValues.none().with(Settings.LOAD_BEST_MODEL_AT_END, true);
        assertThatThrownBy(() -> TrainConfig.checkCombination(Method.LORA, noEvaluations))
                .hasMessageContaining("got eval_strategy no");
        // eval_steps unset takes save_steps: a multiple of itself
        TrainConfig.checkCombination(
                Method.LORA,
                SettingValues.none()
                        .with(Settings.EVAL_STRATEGY, EvalStrategy.STEPS)
                        .with(Settings.SAVE_STEPS, 10)
                        .with(Settings.LOAD_BEST_MODEL_AT_END, true));
    }

    /**
     * KTO evaluates its labelled validation examples during training: eval_logps/chosen and
     * eval_logps/rejected are {@link Scorer}'s completion log-probabilities of the desirable and the
     * undesirable examples under the trained model, with eval_kl and TRL's other metrics
     * (GradientParityTest checks the loss itself against KTO written out).
     */
    @Test
    void ktoEvaluatesTheLabelledValidationExamplesDuringTraining() throws IOException {
        Path model = TinyJob.learnable(dir.resolve("model"), 5);
        Path train = TinyJob.jsonl(
                dir.resolve("labelled.jsonl"), CasePreferenceTask.unpairedLines(CasePreferenceTask.training()));
        Path validation = TinyJob.jsonl(
                dir.resolve("validation-labelled.jsonl"),
                CasePreferenceTask.unpairedLines(CasePreferenceTask.heldOut()));
        TrainConfig config = TrainConfig.of(model, train, dir.resolve("kto"), Method.LORA, Objective.KTO)
                .withValidationFile(validation)
                .withSettings(SettingValues.none()
                        .with(Settings.LEARNING_RATE, 1e-2)
                        .with(Settings.PER_DEVICE_TRAIN_BATCH_SIZE, 4)
                        .with(Settings.MAX_STEPS, 3)
                        .with(Settings.EVAL_STRATEGY, EvalStrategy.STEPS)
                        .with(Settings.EVAL_STEPS, 3));
        List<Map<String, Double>> evaluations = new ArrayList<>();
        try (PreferenceRecipe recipe = new PreferenceRecipe(config, evaluationsInto(evaluations))) {
            recipe.setup();
            recipe.train();
            ChatEncoder encoder = new ChatEncoder(recipe.tokenizer(), Map.of());
            List<long[]> prompts = new ArrayList<>();
            List<long[]> completions = new ArrayList<>();
            List<Boolean> labels = new ArrayList<>();
            for (ChatDatasets.Labelled example : ChatDatasets.labelled(validation)) {
                var encoded = encoder.labelled(example.prompt(), example.completion(), example.desirable(), 512, 1024);
                prompts.add(encoded.prompt());
                completions.add(encoded.completion());
                labels.add(example.desirable());
            }
            double[] logps = Scorer.completionLogProbs(recipe.model().model(), prompts, completions);
            double desirable = 0;
            double undesirable = 0;
            int desirableCount = 0;
            for (int i = 0; i < logps.length; i++) {
                if (labels.get(i)) {
                    desirable += logps[i];
                    desirableCount++;
                } else {
                    undesirable += logps[i];
                }
            }
            assertThat(evaluations).hasSize(1);
            Map<String, Double> metrics = evaluations.get(0);
            assertThat(metrics.get("eval_logps/chosen")).isCloseTo(desirable / desirableCount, within(1e-3));
            assertThat(metrics.get("eval_logps/rejected"))
                    .isCloseTo(undesirable / (logps.length - desirableCount), within(1e-3));
            assertThat(metrics)
                    .containsKeys(
                            "eval_loss",
                            "eval_rewards/chosen",
                            "eval_rewards/rejected",
                            "eval_rewards/margins",
                            "eval_kl");
            assertThat(metrics.get("eval_loss")).isPositive().isLessThan(1.0); // weights 1: w (1 - sigmoid) < 1
        }
    }

    @Test
    void earlyStoppingWithoutEvaluationsAndEvaluationsWithoutValidationDataAreRefused() throws IOException {
        assertThatThrownBy(() -> TrainConfig.checkCombination(
                        Method.LORA, SettingValues.none().with(Settings.EARLY_STOPPING_PATIENCE, 3)))
                .isInstanceOf(SettingException.class)
                .hasMessage("early_stopping_patience 3 needs evaluations, got eval_strategy no; set eval_strategy"
                        + " steps or epoch");
        TrainConfig noValidation = job("none", SettingValues.none().with(Settings.EVAL_STRATEGY, EvalStrategy.EPOCH))
                .withValidationFile(null);
        try (Recipe recipe = Recipes.create(noValidation, TrainingListener.NONE)) {
            assertThatThrownBy(recipe::setup)
                    .isInstanceOf(TrainConfigException.class)
                    .hasMessage("eval_strategy epoch evaluates the validation split, but the job has none: set"
                            + " validation_file");
        }
    }

    @Test
    void greaterIsBetterIsDerivedFromTheMetricAsTransformersDoes() {
        assertThat(EvalArguments.from(SettingValues.none(), Method.LORA))
                .extracting(EvalArguments::metricForBestModel, EvalArguments::greaterIsBetter)
                .containsExactly("eval_loss", false);
        SettingValues accuracy = SettingValues.none().with(Settings.METRIC_FOR_BEST_MODEL, "rewards/accuracies");
        assertThat(EvalArguments.from(accuracy, Method.LORA))
                .extracting(EvalArguments::metricForBestModel, EvalArguments::greaterIsBetter)
                .containsExactly("eval_rewards/accuracies", true);
        assertThat(EvalArguments.from(accuracy.with(Settings.GREATER_IS_BETTER, false), Method.LORA)
                        .greaterIsBetter())
                .isFalse();
        assertThat(EvalArguments.from(SettingValues.none().with(Settings.SAVE_STEPS, 7), Method.LORA)
                        .evalSteps())
                .as("eval_steps defaults to save_steps")
                .isEqualTo(7);
    }

    /** LoRA on every linear with a learning rate that overshoots: validation loss rises after a few steps. */
    static SettingValues diverging(int steps) {
        return SettingValues.none()
                .with(Settings.LORA_TARGET_MODULES, List.of("all-linear"))
                .with(Settings.LORA_DROPOUT, 0.0)
                .with(Settings.LEARNING_RATE, 0.5)
                .with(Settings.MAX_GRAD_NORM, 0.0)
                .with(Settings.MAX_STEPS, steps)
                .with(Settings.EVAL_STRATEGY, EvalStrategy.STEPS)
                .with(Settings.EVAL_STEPS, 1);
    }

    /** An SFT LoRA job on the capitals, batches of 4, the held-out questions as validation split. */
    private TrainConfig job(String name, SettingValues settings) throws IOException {
        Path model = Files.isDirectory(dir.resolve("model"))
                ? dir.resolve("model")
                : TinyJob.learnable(dir.resolve("model"), 5);
        Path train = TinyJob.jsonl(dir.resolve("train.jsonl"), CapitalsTask.sftLines());
        Path validation = TinyJob.jsonl(dir.resolve("validation.jsonl"), CapitalsTask.sftLines(CapitalsTask.heldOut()));
        return TrainConfig.of(model, train, dir.resolve(name), Method.LORA, Objective.SFT)
                .withValidationFile(validation)
                .withSettings(settings.with(Settings.PER_DEVICE_TRAIN_BATCH_SIZE, 4));
    }

    private static TrainResult train(TrainConfig config) throws IOException {
        try (Recipe recipe = Recipes.create(config, TrainingListener.NONE)) {
            recipe.setup();
            return recipe.train();
        }
    }

    private static TrainingListener evaluationsInto(List<Map<String, Double>> evaluations) {
        return new TrainingListener() {
            @Override
            public void onStep(StepMetrics metrics) {}

            @Override
            public void onEvaluate(int step, double epoch, Map<String, Double> metrics) {
                evaluations.add(metrics);
            }
        };
    }

    /**
     * The mean NLL of the validation examples' target tokens, computed apart from the loop: encoded
     * again, one padded batch, the whole logits and {@link SftLoss#nextTokenLogProbs}, summed in double.
     */
    @SuppressWarnings("try")
    private static double meanValidationNll(SftRecipe recipe) {
        ChatEncoder encoder = new ChatEncoder(recipe.tokenizer(), Map.of());
        List<TrainingSequence> examples = new ArrayList<>();
        for (CapitalsTask.Item item : CapitalsTask.heldOut()) {
            encoder.sft(item.conversation(), true, 1024).ifPresent(examples::add);
        }
        CausalLm lm = recipe.model().model();
        SftBatch batch = SftBatch.of(examples, RecipeSupport.padId(recipe.tokenizer(), lm), false);
        recipe.model().setTraining(false);
        try (GradientMode.Paused paused = GradientMode.pause();
                NDScope ignored = new NDScope()) {
            NDArray logits = batch.logits(lm, lm.manager()); // [B, T, V]
            float[][] logProbs = toRows(
                    SftLoss.nextTokenLogProbs(logits, lm.manager().create(batch.ids())), batch.lossMask()[0].length);
            double sum = 0;
            for (int b = 0; b < logProbs.length; b++) {
                for (int t = 0; t < logProbs[b].length; t++) {
                    sum -= batch.lossMask()[b][t] * (double) logProbs[b][t];
                }
            }
            return sum / batch.targetCount();
        }
    }

    private static float[][] toRows(NDArray values, int width) {
        float[] flat = values.toFloatArray();
        float[][] rows = new float[flat.length / width][];
        for (int b = 0; b < rows.length; b++) {
            rows[b] = Arrays.copyOfRange(flat, b * width, (b + 1) * width);
        }
        return rows;
    }
}
