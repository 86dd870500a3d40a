package dev.finetune.llm.tiny;

import dev.finetune.llm.checkpoint.ModelConfig;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Writes tokenizer files (tokenizer.json, tokenizer_config.json, ...) beside a generated tiny
 * model. The tokenizer package provides implementations; a model without one has no tokenizer files.
 */
@FunctionalInterface
public interface TokenizerFiles {
    TokenizerFiles NONE = (directory, config) -> {};

    /** Writes into {@code directory} the tokenizer of a model with {@code config.vocabSize()} tokens. */
    void write(Path directory, ModelConfig config) throws IOException;
}
