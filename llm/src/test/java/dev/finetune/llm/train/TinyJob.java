package dev.finetune.llm.train;

import dev.finetune.llm.checkpoint.DType;
import dev.finetune.llm.checkpoint.ModelConfig;
import dev.finetune.llm.checkpoint.ModelType;
import dev.finetune.llm.tiny.TinyModelGenerator;
import dev.finetune.llm.tiny.TinyModels;
import dev.finetune.llm.tokenizer.TinyTokenizerWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

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
