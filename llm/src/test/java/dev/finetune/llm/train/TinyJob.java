package dev.finetune.llm.train;

import dev.finetune.llm.checkpoint.DType;
import dev.finetune.llm.checkpoint.ModelConfig;
import dev.finetune.llm.checkpoint.ModelType;
import dev.finetune.llm.lora.LoraConfig;
import dev.finetune.llm.settings.Settings;
import dev.finetune.llm.tiny.TinyModelGenerator;
import dev.finetune.llm.tiny.TinyModels;
import dev.finetune.llm.tokenizer.TinyTokenizerWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Writes the files a training job needs: a tiny model with the tiny ChatML tokenizer. */
final class TinyJob {
    /** Vocabulary of {@link TinyTokenizerWriter}'s tokenizer. */
    static final int VOCAB = 356;

    private TinyJob() {}

    /** A tiny llama-type model sized to the tiny tokenizer, in HuggingFace layout with tokenizer files. */
    static Path model(Path directory, long seed) throws IOException {
        return model(
                directory,
                seed,
                TinyModels.config(ModelType.LLAMA).toBuilder().vocabSize(VOCAB).build());
    }

    /**
     * A tiny llama with moderately scaled random weights (std 0.1) for learning tests: HuggingFace's
     * 0.02 leaves the frozen LM head too weak for adapters alone to fit, and larger scales make a
     * chaotic model that memorises instead of generalising across templates.
     */
    static Path learnable(Path directory, long seed) throws IOException {
        ModelConfig config =
                TinyModels.config(ModelType.LLAMA).toBuilder().vocabSize(VOCAB).build();
        return model(directory, seed, config, new TinyModelGenerator.Initialization(0.1, 0.1, 0, 0));
    }

    /**
     * What the preference learning tests train a {@link #learnable} model with: LoRA r 16 (alpha 32) on
     * every linear, learning rate 1e-2, 10 epochs (40 steps of 8 over the 32 items of {@code
     * CasePreferenceTask}).
     */
    static TrainConfig learningLora(TrainConfig config) {
        return config.with(Settings.LEARNING_RATE, 1e-2)
                .with(Settings.NUM_TRAIN_EPOCHS, 10.0)
                .with(Settings.LORA_TARGET_MODULES, List.of(LoraConfig.ALL_LINEAR))
                .with(Settings.LORA_R, 16)
                .with(Settings.LORA_ALPHA, 32.0);
    }

    static Path model(Path directory, long seed, ModelConfig config) throws IOException {
        return model(directory, seed, config, TinyModelGenerator.Initialization.huggingFace(config));
    }

    static Path model(Path directory, long seed, ModelConfig config, TinyModelGenerator.Initialization init)
            throws IOException {
        TinyModelGenerator.write(config, seed, init, DType.F32, (dir, c) -> TinyTokenizerWriter.write(dir), directory);
        return directory;
    }

    static Path jsonl(Path file, Iterable<String> lines) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        Files.write(file, lines);
        return file;
    }
}
