package dev.finetune.training.worker;

import dev.finetune.events.Objective;
import dev.finetune.llm.checkpoint.DType;
import dev.finetune.llm.checkpoint.ModelConfig;
import dev.finetune.llm.checkpoint.ModelType;
import dev.finetune.llm.model.Engines;
import dev.finetune.llm.optim.ScheduleType;
import dev.finetune.llm.settings.SettingValues;
import dev.finetune.llm.settings.Settings;
import dev.finetune.llm.tiny.TinyModelGenerator;
import dev.finetune.llm.tiny.TinyModels;
import dev.finetune.llm.tiny.TokenizerFiles;
import dev.finetune.llm.tokenizer.TinyTokenizerWriter;
import dev.finetune.llm.train.Method;
import dev.finetune.llm.train.Recipe;
import dev.finetune.llm.train.Recipes;
import dev.finetune.llm.train.TrainConfig;
import dev.finetune.llm.train.TrainingListener;
import dev.finetune.storage.LocalDirectories;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Trains a generated model for a few dozen steps when the worker starts, so that the training code
 * is compiled before the first job runs. The reporting benchmark (docs/benchmarks.md) measured a
 * worker's first job 13.5% slower than its second, of which 1.0 s went to loading the tokenizer's
 * native library and compiling the chat template and 2.1 s to the JIT compiling about 900 more
 * methods of llm, DJL and Jinjava than the second job did: only training warms training code.
 *
 * <p>What it runs is what the demo and most jobs run: a qwen3-layout chat model (hidden 64, 2 layers,
 * the tiny ChatML tokenizer), LoRA on all linear layers, SFT on short conversations through the chat
 * template, AdamW with a cosine schedule, gradient clipping, and one checkpoint. It writes only under
 * its own directory in the worker's work dir and deletes it; nothing reaches the store or the broker.
 */
final class TrainingWarmup {
    /** Steps to train: a few thousand calls of each per-layer method, enough for C2 to compile the step. */
    static final int STEPS = 300;

    private static final int CONVERSATIONS = 16;

    private final Path dir;
    private Recipe recipe;
    private boolean stopped;

    /** A warm-up that works in {@code workDir/warmup-training/}. */
    TrainingWarmup(Path workDir) {
        this.dir = workDir.resolve("warmup-training");
    }

    /**
     * Trains up to {@link #STEPS} steps on the calling thread, which it prepares for training, and
     * deletes what it wrote; returns at once if {@link #stop} came first.
     *
     * @return the steps trained
     */
    int run() {
        try {
            try {
                LocalDirectories.deleteRecursively(dir);
                return train();
            } finally {
                LocalDirectories.deleteRecursively(dir);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("training warm-up in " + dir + ": " + e.getMessage(), e);
        }
    }

    /**
     * Ends the warm-up after the micro-batch in progress, or before it starts (thread-safe). The engine
     * collects gradients for one training at a time, so a job must not start before {@link #run} has
     * returned.
     */
    synchronized void stop() {
        stopped = true;
        if (recipe != null) {
            recipe.requestStop();
        }
    }

    /** Makes {@code created} the recipe {@link #stop} stops; false if it was stopped already. */
    private synchronized boolean attach(Recipe created) {
        recipe = created;
        return !stopped;
    }

    private int train() throws IOException {
        if (isStopped()) {
            return 0;
        }
        Path model = dir.resolve("model");
        Files.createDirectories(model);
        TinyTokenizerWriter.write(model);
        ModelConfig config = TinyModels.withTokenizer(TinyModels.config(ModelType.QWEN3), model);
        TinyModelGenerator.write(
                config, 0, TinyModelGenerator.Initialization.TEST, DType.F32, TokenizerFiles.NONE, model);
        Path train = dir.resolve("train.jsonl");
        Files.write(train, conversations());
        TrainConfig training = TrainConfig.of(model, train, dir.resolve("out"), Method.LORA, Objective.SFT)
                .withSettings(SettingValues.none()
                        .with(Settings.MAX_STEPS, STEPS)
                        .with(Settings.PER_DEVICE_TRAIN_BATCH_SIZE, 4)
                        .with(Settings.LR_SCHEDULER_TYPE, ScheduleType.COSINE)
                        .with(Settings.WARMUP_STEPS, 2)
                        .with(Settings.LORA_TARGET_MODULES, List.of("all-linear"))
                        .with(Settings.MAX_SEQ_LENGTH, 64)
                        .with(Settings.SAVE_STEPS, STEPS));
        Engines.trainingThread();
        try (Recipe created = Recipes.create(training, TrainingListener.NONE)) {
            if (!attach(created)) {
                return 0;
            }
            created.setup();
            return created.train().step();
        } finally {
            attach(null);
        }
    }

    private synchronized boolean isStopped() {
        return stopped;
    }

    /** Short support-style conversations, as chat lines of a prepared dataset. */
    private static List<String> conversations() {
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < CONVERSATIONS; i++) {
            lines.add("{\"messages\":[{\"role\":\"user\",\"content\":\"How do I reset device " + i
                    + "?\"},{\"role\":\"assistant\",\"content\":\"Hold the power button for " + (i % 5 + 3)
                    + " seconds.\"}]}");
        }
        return lines;
    }
}
