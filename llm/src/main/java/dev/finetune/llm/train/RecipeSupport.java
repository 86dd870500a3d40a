package dev.finetune.llm.train;

import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.tokenizer.SpecialToken;
import dev.finetune.llm.tokenizer.Tokenizer;

/** Small decisions both recipes make the same way. */
final class RecipeSupport {
    private RecipeSupport() {}

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
