package dev.finetune.llm.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.finetune.events.Objective;
import dev.finetune.llm.settings.SettingException;
import dev.finetune.llm.settings.Settings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * precompute_ref_log_probs with LoRA: the reference scores every example once before step 1, training
 * gives the same losses and weights as scoring the reference on each micro-batch, and a resumed run reads
 * the stored scores instead of scoring again.
 */
class PrecomputedReferenceTest {
    private static final int BATCH = 4;
    private static final int STEPS = 4;
    /** CasePreferenceTask's 32 training items in batches of 4. */
    private static final int TRAINING_BATCHES = 8;

    @TempDir
    Path dir;

    @Test
    void dpoWithPrecomputedReferenceTrainsAsWithAReferencePassPerStep() throws IOException {
        assertSameTraining(Objective.DPO);
    }

    @Test
    void ktoWithPrecomputedReferenceTrainsAsWithAReferencePassPerStep() throws IOException {
        assertSameTraining(Objective.KTO);
    }

    @Test
    void resumedRunReadsTheStoredReferenceScoresAndScoresNothing() throws IOException {
        TrainConfig config = job(Objective.DPO, "straight").with(Settings.PRECOMPUTE_REF_LOG_PROBS, true);
        Run straight = train(config);

        TrainConfig interrupted = config.withOutputDir(dir.resolve("interrupted"));
        Recipe[] running = new Recipe[1];
        try (Recipe first = Recipes.create(interrupted, ResumeTest.stopAtFirstCheckpoint(running))) {
            running[0] = first;
            first.setup();
            assertThat(first.train().step()).isEqualTo(STEPS / 2);
        }
        Path stored = interrupted.outputDir().resolve("checkpoint-" + STEPS / 2).resolve(ReferenceModel.FILE);
        assertThat(stored).exists();

        try (PreferenceRecipe second = new PreferenceRecipe(interrupted, TrainingListener.NONE)) {
            second.setup();
            TrainResult result = second.train();
            assertThat(result.resumedFrom()).isEqualTo(STEPS / 2);
            assertThat(second.referenceForwardPasses())
                    .as("reference passes after resuming")
                    .isZero();
            assertThat(ResumeTest.maxDifference(
                            straight.weights(),
                            ResumeTest.snapshot(second.model().parameters())))
                    .isLessThanOrEqualTo(1e-6);
        }
    }

    @Test
    void resumedRunUsesTheStoredValuesNotFreshOnes() throws IOException {
        // Shifting every stored chosen score by 1 changes the margins, so the resumed run must differ.
        TrainConfig config = job(Objective.DPO, "straight").with(Settings.PRECOMPUTE_REF_LOG_PROBS, true);
        Run straight = train(config);
        TrainConfig interrupted = config.withOutputDir(dir.resolve("interrupted"));
        Recipe[] running = new Recipe[1];
        try (Recipe first = Recipes.create(interrupted, ResumeTest.stopAtFirstCheckpoint(running))) {
            running[0] = first;
            first.setup();
            first.train();
        }
        Path stored = interrupted.outputDir().resolve("checkpoint-" + STEPS / 2).resolve(ReferenceModel.FILE);
        Map<String, float[]> scores = TensorFiles.read(stored);
        float[] chosen = scores.get("chosen");
        for (int i = 0; i < chosen.length; i++) {
            chosen[i] += 1f;
        }
        TensorFiles.writeVectors(stored, scores, TensorFiles.metadata(stored));

        Run resumed = train(interrupted);
        assertThat(ResumeTest.maxDifference(straight.weights(), resumed.weights()))
                .as("the resumed run trained against the stored (shifted) scores")
                .isGreaterThan(1e-5);
    }

    @Test
    void settingIsRefusedWithObjectivesWithoutAReference() throws IOException {
        for (Objective objective : List.of(Objective.SFT, Objective.ORPO)) {
            assertThatThrownBy(() -> TrainConfig.of(dir, dir, dir, Method.LORA, objective)
                            .with(Settings.PRECOMPUTE_REF_LOG_PROBS, true))
                    .isInstanceOf(SettingException.class)
                    .hasMessageContaining("precompute_ref_log_probs")
                    .hasMessageContaining("objective " + objective.code());
        }
    }

    @Test
    void storedScoresOfChangedDataAreRefused() throws IOException {
        Path validation =
                TinyJob.jsonl(dir.resolve("validation.jsonl"), CasePreferenceTask.lines(CasePreferenceTask.heldOut()));
        TrainConfig config = job(Objective.DPO, "run")
                .withValidationFile(validation)
                .with(Settings.PRECOMPUTE_REF_LOG_PROBS, true)
                .with(Settings.EVAL_STRATEGY, EvalStrategy.STEPS)
                .with(Settings.EVAL_STEPS, STEPS / 2);
        Recipe[] running = new Recipe[1];
        try (Recipe first = Recipes.create(config, ResumeTest.stopAtFirstCheckpoint(running))) {
            running[0] = first;
            first.setup();
            first.train();
        }

        // the same training items, other validation items: the run's plan matches, the stored scores do not
        List<String> otherValidation = new ArrayList<>(CasePreferenceTask.heldOut());
        otherValidation.set(0, "zebra");
        TinyJob.jsonl(validation, CasePreferenceTask.lines(otherValidation));
        assertThatThrownBy(() -> train(config))
                .isInstanceOf(TrainConfigException.class)
                .hasMessageContaining(ReferenceModel.FILE)
                .hasMessageContaining("data changed");

        // other training items: refused before the stored scores are read
        List<String> otherTraining = new ArrayList<>(CasePreferenceTask.training());
        otherTraining.set(0, "zebra");
        TinyJob.jsonl(config.trainFile(), CasePreferenceTask.lines(otherTraining));
        assertThatThrownBy(() -> train(config))
                .isInstanceOf(TrainConfigException.class)
                .hasMessageContaining("another run");
    }

    /**
     * Both runs start from a trained adapter (init_adapter), so scoring the reference with the adapters
     * on instead of off would change the losses.
     */
    private void assertSameTraining(Objective objective) throws IOException {
        train(job(objective, "parent"));
        Path parent = dir.resolve("parent").resolve("checkpoint-" + STEPS / 2); // a PEFT adapter directory
        Run perStep = train(job(objective, "per-step").with(Settings.INIT_ADAPTER, parent.toString()));
        Run precomputed = train(job(objective, "precomputed")
                .with(Settings.INIT_ADAPTER, parent.toString())
                .with(Settings.PRECOMPUTE_REF_LOG_PROBS, true));

        assertThat(perStep.referencePasses())
                .as("a reference pass per micro-batch")
                .isEqualTo(2 * STEPS);
        assertThat(precomputed.referencePasses()).as("one pass over the data").isEqualTo(TRAINING_BATCHES);
        assertThat(precomputed.losses()).hasSize(STEPS);
        for (int i = 0; i < STEPS; i++) {
            assertThat(Math.abs(precomputed.losses().get(i) - perStep.losses().get(i)))
                    .as("loss of step %d", i + 1)
                    .isLessThanOrEqualTo(1e-6);
        }
        assertThat(ResumeTest.maxDifference(perStep.weights(), perStep.initial()))
                .as("training moved the adapters")
                .isGreaterThan(1e-4);
        assertThat(ResumeTest.maxDifference(perStep.weights(), precomputed.weights()))
                .isLessThanOrEqualTo(1e-6);
    }

    /** LoRA on a tiny model: STEPS steps of two micro-batches of BATCH, a checkpoint halfway. */
    private TrainConfig job(Objective objective, String output) throws IOException {
        Path model = Files.exists(dir.resolve("model")) ? dir.resolve("model") : TinyJob.model(dir.resolve("model"), 5);
        Path data = objective == Objective.KTO
                ? TinyJob.jsonl(
                        dir.resolve("labelled.jsonl"), CasePreferenceTask.unpairedLines(CasePreferenceTask.training()))
                : dir.resolve("pairs.jsonl");
        if (!Files.exists(data)) {
            TinyJob.jsonl(data, CasePreferenceTask.lines(CasePreferenceTask.training()));
        }
        return TrainConfig.of(model, data, dir.resolve(output), Method.LORA, objective)
                .with(Settings.LEARNING_RATE, 1e-2)
                .with(Settings.LORA_DROPOUT, 0.0)
                .with(Settings.PER_DEVICE_TRAIN_BATCH_SIZE, BATCH)
                .with(Settings.GRADIENT_ACCUMULATION_STEPS, 2)
                .with(Settings.MAX_STEPS, STEPS)
                .with(Settings.SAVE_STEPS, STEPS / 2);
    }

    private record Run(
            Map<String, float[]> initial, Map<String, float[]> weights, List<Double> losses, int referencePasses) {}

    private static Run train(TrainConfig config) throws IOException {
        List<Double> losses = new ArrayList<>();
        TrainingListener listener = new TrainingListener() {
            @Override
            public void onStep(StepMetrics metrics) {
                losses.add(metrics.loss());
            }
        };
        try (PreferenceRecipe recipe = new PreferenceRecipe(config, listener)) {
            recipe.setup();
            Map<String, float[]> initial = ResumeTest.snapshot(recipe.model().parameters());
            recipe.train();
            return new Run(
                    initial, ResumeTest.snapshot(recipe.model().parameters()), losses, recipe.referenceForwardPasses());
        }
    }
}
