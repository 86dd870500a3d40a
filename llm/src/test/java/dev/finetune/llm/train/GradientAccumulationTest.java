package dev.finetune.llm.train;

import static org.assertj.core.api.Assertions.assertThat;

import dev.finetune.events.Objective;
import dev.finetune.llm.settings.Settings;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Accumulating micro-batches is the same optimizer step as one big batch: the loss is normalised by
 * the target tokens of the whole window, not averaged per micro-batch (transformers' old bug).
 */
class GradientAccumulationTest {
    @TempDir
    Path dir;

    @Test
    void fourMicroBatchesOfOneUpdateLikeOneBatchOfFour() throws IOException {
        Path model = TinyJob.model(dir.resolve("model"), 9);
        Path data = TinyJob.jsonl(dir.resolve("train.jsonl"), CapitalsTask.sftLines());
        List<Map<String, float[]>> results = new ArrayList<>();
        List<Double> losses = new ArrayList<>();
        for (int[] layout : new int[][] {{4, 1}, {2, 2}, {1, 4}}) {
            TrainConfig config = TrainConfig.of(
                            model, data, dir.resolve("out-" + layout[0]), Method.FULL, Objective.SFT)
                    .with(Settings.LEARNING_RATE, 1e-3)
                    .with(Settings.PER_DEVICE_TRAIN_BATCH_SIZE, layout[0])
                    .with(Settings.GRADIENT_ACCUMULATION_STEPS, layout[1])
                    .with(Settings.MAX_STEPS, 2)
                    .with(Settings.MAX_GRAD_NORM, 0.0); // clipping would hide a wrongly scaled gradient
            try (SftRecipe recipe = new SftRecipe(config, metrics -> losses.add(metrics.loss()))) {
                recipe.setup();
                recipe.train();
                results.add(ResumeTest.snapshot(recipe.model().parameters()));
            }
        }
        assertThat(ResumeTest.maxDifference(results.get(0), results.get(1))).isLessThan(1e-5);
        assertThat(ResumeTest.maxDifference(results.get(0), results.get(2))).isLessThan(1e-5);
        assertThat(losses.get(2)).isCloseTo(losses.get(0), org.assertj.core.data.Offset.offset(1e-5));
        assertThat(losses.get(4)).isCloseTo(losses.get(0), org.assertj.core.data.Offset.offset(1e-5));
    }
}
