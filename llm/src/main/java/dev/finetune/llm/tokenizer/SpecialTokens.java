package dev.finetune.llm.tokenizer;

import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The special tokens a model's tokenizer declares in tokenizer_config.json, resolved to ids.
 *
 * @param bos beginning of sequence ({@code bos_token}); Qwen models have none
 * @param eos end of sequence ({@code eos_token}); for chat models, the end of a turn
 * @param pad padding ({@code pad_token})
 * @param unk unknown ({@code unk_token}); byte-level tokenizers have none
 * @param stopIds ids that end generation: generation_config.json's {@code eos_token_id} (an id or
 *     a list) when that file exists, otherwise the eos id
 * @param specialIds every id marked special in tokenizer.json or tokenizer_config.json
 */
public record SpecialTokens(
        Optional<SpecialToken> bos,
        Optional<SpecialToken> eos,
        Optional<SpecialToken> pad,
        Optional<SpecialToken> unk,
        List<Integer> stopIds,
        Set<Integer> specialIds) {
    public SpecialTokens {
        stopIds = List.copyOf(stopIds);
        specialIds = Set.copyOf(specialIds);
    }

    /** Whether {@code id} is a special token (skipped by {@code decode(ids, true)}). */
    public boolean isSpecial(int id) {
        return specialIds.contains(id);
    }
}
