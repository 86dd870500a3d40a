package dev.finetune.llm.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.events.Objective;
import dev.finetune.llm.settings.Settings;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a checkpoint holds, and that only complete checkpoints are ever resumed from. */
class CheckpointTest {
    @TempDir
    Path dir;

    private TrainConfig job(Path out, int maxSteps, int saveSteps, int keep) throws IOException {
        Path model = Files.exists(dir.resolve("model")) ? dir.resolve("model") : TinyJob.model(dir.resolve("model"), 6);
        Path data = TinyJob.jsonl(dir.resolve("train.jsonl"), CapitalsTask.sftLines());
        return TrainConfig.of(model, data, out, Method.FULL, Objective.SFT)
                .with(Settings.PER_DEVICE_TRAIN_BATCH_SIZE, 4)
                .with(Settings.MAX_STEPS, maxSteps)
                .with(Settings.SAVE_STEPS, saveSteps)
                .with(Settings.SAVE_TOTAL_LIMIT, keep);
    }

    @Test
    void checkpointHoldsWeightsOptimizerMomentsAndAManifestOfTheRunsPosition() throws IOException {
        TrainConfig config = job(dir.resolve("out"), 4, 3, 0);
        try (SftRecipe recipe = new SftRecipe(config, TrainingListener.NONE)) {
            recipe.setup();
            recipe.train();
        }
        Path checkpoint = dir.resolve("out/checkpoint-3");
        try (Stream<Path> files = Files.list(checkpoint)) {
            assertThat(files.map(p -> p.getFileName().toString()))
                    .containsExactlyInAnyOrder(
                            "config.json", "model.safetensors", "optimizer.safetensors", "trainer_state.json");
        }
        JsonNode state = new ObjectMapper()
                .readTree(checkpoint.resolve("trainer_state.json").toFile());
        assertThat(state.get("global_step").asInt()).isEqualTo(3);
        assertThat(state.get("optimizer_step").asInt()).isEqualTo(3);
        assertThat(state.get("epoch").asDouble()).isEqualTo(3 / 12.0); // 48 examples in batches of 4
        assertThat(state.at("/data/epoch").asInt()).isZero();
        assertThat(state.at("/data/micro_batch").asInt()).isEqualTo(3);
        assertThat(state.at("/rng/seed").asLong()).isEqualTo(42);
        assertThat(state.at("/schedule/type").asText()).isEqualTo("linear");
        assertThat(state.at("/plan/data_fingerprint").asText()).hasSize(64);
        assertThat(state.at("/files/optimizer.safetensors").asLong())
                .isEqualTo(Files.size(checkpoint.resolve("optimizer.safetensors")));
        assertThat(dir.resolve("out/checkpoint-4/trainer_state.json"))
                .as("saved at the end too")
                .isRegularFile();
    }

    @Test
    void incompleteOrDamagedCheckpointsAreNeverResumedFrom() throws IOException {
        TrainConfig config = job(dir.resolve("out"), 6, 2, 0);
        try (SftRecipe recipe = new SftRecipe(config, TrainingListener.NONE)) {
            recipe.setup();
            recipe.train();
        }
        Path out = dir.resolve("out");
        // checkpoint-6 lost its manifest (a crash before the last write), checkpoint-4 was truncated
        Files.delete(out.resolve("checkpoint-6/trainer_state.json"));
        try (FileChannel channel =
                FileChannel.open(out.resolve("checkpoint-4/optimizer.safetensors"), StandardOpenOption.WRITE)) {
            channel.truncate(channel.size() / 2);
        }
        Files.createDirectories(out.resolve(".tmp-checkpoint-8-123"));

        try (SftRecipe recipe = new SftRecipe(config, TrainingListener.NONE)) {
            recipe.setup();
            TrainResult result = recipe.train();
            assertThat(result.resumedFrom()).isEqualTo(2);
            assertThat(result.step()).isEqualTo(6);
        }
        assertThat(out.resolve(".tmp-checkpoint-8-123")).doesNotExist();
        assertThat(TrainingCheckpoints.isComplete(out.resolve("checkpoint-4"))).isTrue();
        assertThat(TrainingCheckpoints.isComplete(out.resolve("checkpoint-6"))).isTrue();
    }

    @Test
    void saveTotalLimitKeepsOnlyTheNewestCheckpoints() throws IOException {
        TrainConfig config = job(dir.resolve("out"), 5, 1, 2);
        try (SftRecipe recipe = new SftRecipe(config, TrainingListener.NONE)) {
            recipe.setup();
            recipe.train();
        }
        try (Stream<Path> files = Files.list(dir.resolve("out"))) {
            assertThat(files.map(p -> p.getFileName().toString()))
                    .containsExactlyInAnyOrder("checkpoint-4", "checkpoint-5", "final");
        }
    }

    @Test
    void resumingOnOtherDataIsRefusedAndNamesTheDirectory() throws IOException {
        TrainConfig config = job(dir.resolve("out"), 2, 1, 0);
        try (SftRecipe recipe = new SftRecipe(config, TrainingListener.NONE)) {
            recipe.setup();
            recipe.train();
        }
        List<String> fewer = CapitalsTask.sftLines().subList(0, 40);
        TrainConfig other = TrainConfig.of(
                        config.model(),
                        TinyJob.jsonl(dir.resolve("other.jsonl"), fewer),
                        config.outputDir(),
                        Method.FULL,
                        Objective.SFT)
                .withSettings(config.settings());
        try (SftRecipe recipe = new SftRecipe(other, TrainingListener.NONE)) {
            assertThatThrownBy(recipe::setup)
                    .isInstanceOf(IOException.class)
                    .hasMessageContaining("checkpoint-2 was written by another run")
                    .hasMessageContaining("resume: false");
        }
        try (SftRecipe recipe = new SftRecipe(other.withResume(false), TrainingListener.NONE)) {
            recipe.setup();
            assertThat(recipe.train().resumedFrom()).isZero();
        }
    }
}
