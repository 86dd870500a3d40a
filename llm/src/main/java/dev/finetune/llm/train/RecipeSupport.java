package dev.finetune.llm.train;

import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.tokenizer.SpecialToken;
import dev.finetune.llm.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** Small decisions both recipes make the same way. */
final class RecipeSupport {
    private RecipeSupport() {}

    /** Reads and encodes a data file. */
    @FunctionalInterface
    interface Encoding<T> {
        List<T> read(Path file) throws IOException;
    }

    /**
     * The validation examples to evaluate during training, encoded by {@code encoding}: none when
     * eval_strategy is no.
     *
     * @throws TrainConfigException if evaluations are asked for without validation data, or it is empty
     */
    static <T> List<T> validation(TrainConfig config, Encoding<T> encoding) throws IOException {
        EvalStrategy strategy = config.evaluation().strategy();
        if (strategy == EvalStrategy.NO) {
            return List.of();
        }
        if (config.validationFile() == null) {
            throw new TrainConfigException("eval_strategy " + strategy.configName()
                    + " evaluates the validation split, but the job has none: set validation_file");
        }
        List<T> examples = encoding.read(config.validationFile());
        if (examples.isEmpty()) { // an evaluation of nothing has no loss
            throw new TrainConfigException(config.validationFile() + " holds no validation example to evaluate");
        }
        return examples;
    }

    /**
     * The id that fills padding: the tokenizer's pad token, else the model config's, else 0. Padding
     * is masked everywhere, so any valid id works; a real pad id keeps batches readable.
     */
    static long padId(Tokenizer tokenizer, CausalLm model) {
        return tokenizer
                .specialTokens()
                .pad()
                .map(SpecialToken::id)
                .map(Integer::longValue)
                .orElseGet(() -> model.config().padTokenId() == null
                        ? 0L
                        : model.config().padTokenId());
    }
}
