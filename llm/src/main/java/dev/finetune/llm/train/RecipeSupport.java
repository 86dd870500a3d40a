package dev.finetune.llm.train;

import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.tokenizer.SpecialToken;
import dev.finetune.llm.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** Small decisions both recipes make the same way. */
final class RecipeSupport {
    private RecipeSupport() {}

    /**
     * The validation file to evaluate during training: none when eval_strategy is no.
     *
     * @throws TrainConfigException if evaluations are asked for without validation data
     */
    static Optional<Path> validationFile(TrainConfig config) throws TrainConfigException {
        EvalStrategy strategy = config.evaluation().strategy();
        if (strategy == EvalStrategy.NO) {
            return Optional.empty();
        }
        if (config.validationFile() == null) {
            throw new TrainConfigException("eval_strategy " + strategy.configName()
                    + " evaluates the validation split, but the job has none: set validation_file");
        }
        return Optional.of(config.validationFile());
    }

    /** Refuses an empty validation split: an evaluation of nothing has no loss. */
    static <T> List<T> nonEmptyValidation(List<T> examples, TrainConfig config) throws TrainConfigException {
        if (examples.isEmpty()) {
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
