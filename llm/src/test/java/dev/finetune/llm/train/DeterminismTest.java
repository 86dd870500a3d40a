package dev.finetune.llm.train;

import static org.assertj.core.api.Assertions.assertThat;

import dev.finetune.events.Objective;
import dev.finetune.llm.settings.SettingValues;
import dev.finetune.llm.settings.Settings;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Everything random in a run (data order, adapter initialisation, dropout) follows the seed. */
class DeterminismTest {
    @TempDir
    Path dir;

    @Test
    void theSameSeedGivesTheSameWeightsAndAnotherSeedOtherWeights() throws IOException {
        Path model = TinyJob.model(dir.resolve("model"), 2);
        Path data = TinyJob.jsonl(dir.resolve("train.jsonl"), CapitalsTask.sftLines());

        Map<String, float[]> first = train(model, data, "a", 42);
        Map<String, float[]> again = train(model, data, "b", 42);
        Map<String, float[]> other = train(model, data, "c", 43);

        assertThat(ResumeTest.maxDifference(first, again)).isZero();
        assertThat(ResumeTest.maxDifference(first, other)).isGreaterThan(1e-3);
    }

    @Test
    void eachEpochVisitsEveryItemOnceInASeededOrder() {
        TrainingArguments arguments = TrainingArguments.from(
                SettingValues.none()
                        .with(Settings.PER_DEVICE_TRAIN_BATCH_SIZE, 3)
                        .with(Settings.GRADIENT_ACCUMULATION_STEPS, 2)
                        .with(Settings.NUM_TRAIN_EPOCHS, 2.0),
                Method.LORA);
        BatchPlan plan = BatchPlan.of(10, arguments);

        assertThat(plan.stepsPerEpoch()).isEqualTo(2); // 4 micro-batches of 3, 3, 3, 1
        assertThat(plan.totalSteps()).isEqualTo(4);
        int[] epochZero = java.util.stream.IntStream.range(0, 2)
                .flatMap(step -> plan.microBatches(step).stream().flatMapToInt(java.util.Arrays::stream))
                .toArray();
        assertThat(epochZero).containsExactlyInAnyOrder(0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
        assertThat(plan.microBatches(1)).extracting(b -> b.length).containsExactly(3, 1);
        assertThat(plan.permutation(1)).isNotEqualTo(plan.permutation(0));
        assertThat(BatchPlan.of(10, arguments).permutation(1)).isEqualTo(plan.permutation(1));
    }

    private Map<String, float[]> train(Path model, Path data, String out, long seed) throws IOException {
        TrainConfig config = TrainConfig.of(model, data, dir.resolve(out), Method.LORA, Objective.SFT)
                .with(Settings.LORA_DROPOUT, 0.1)
                .with(Settings.LEARNING_RATE, 1e-2)
                .with(Settings.PER_DEVICE_TRAIN_BATCH_SIZE, 4)
                .with(Settings.MAX_STEPS, 3)
                .with(Settings.SEED, seed);
        try (SftRecipe recipe = new SftRecipe(config, TrainingListener.NONE)) {
            recipe.setup();
            recipe.train();
            return ResumeTest.snapshot(recipe.model().parameters());
        }
    }
}
