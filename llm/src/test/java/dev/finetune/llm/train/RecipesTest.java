package dev.finetune.llm.train;

import static org.assertj.core.api.Assertions.assertThat;

import dev.finetune.events.Objective;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A job's objective picks its recipe; a stop asked for before training starts is kept. */
class RecipesTest {
    @TempDir
    Path dir;

    @Test
    void theObjectiveChoosesTheRecipe() {
        try (Recipe sft = Recipes.create(job(Objective.SFT, Path.of("train.jsonl")), TrainingListener.NONE);
                Recipe dpo = Recipes.create(job(Objective.DPO, Path.of("pairs.jsonl")), TrainingListener.NONE)) {
            assertThat(sft).isInstanceOf(SftRecipe.class);
            assertThat(dpo).isInstanceOf(PreferenceRecipe.class);
            assertThat(sft.model()).as("nothing is loaded before setup").isNull();
        }
    }

    @Test
    void aStopRequestedDuringSetupEndsTheRunBeforeItsFirstStep() throws IOException {
        Path data = TinyJob.jsonl(dir.resolve("train.jsonl"), CapitalsTask.sftLines());
        try (Recipe recipe = Recipes.create(job(Objective.SFT, data), TrainingListener.NONE)) {
            recipe.requestStop(); // as a cancel that arrives while the model is still loading
            recipe.setup();
            TrainResult result = recipe.train();
            assertThat(result.step()).isZero();
            assertThat(result.output()).isNull();
        }
    }

    private TrainConfig job(Objective objective, Path data) {
        Path model;
        try {
            model = TinyJob.model(dir.resolve("model"), 1);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return TrainConfig.of(model, data, dir.resolve("out-" + objective.code()), Method.LORA, objective);
    }
}
