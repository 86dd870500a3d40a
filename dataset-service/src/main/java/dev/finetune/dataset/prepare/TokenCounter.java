package dev.finetune.dataset.prepare;

import dev.finetune.dataset.format.CanonicalExample;
import java.util.List;

/** Counts the tokens examples take, for the statistics (its name goes into the stats). */
public interface TokenCounter {
    /** What counts, e.g. the base model whose tokenizer is used. */
    String name();

    /**
     * Tokens of one example: the whole conversation (for preference data, prompt + longer answer; for a
     * prompt, the prompt + its reference as the answer turn, when it has one).
     */
    int count(CanonicalExample example);

    /** Tokens of a pre-tokenized example: its ids, whatever the counter (they are the tokens trained). */
    static int tokenized(CanonicalExample example) {
        return example.tokens().inputIds().length;
    }

    /** Tokens of each example; tokenizers that batch (in native threads) override this. */
    default int[] countAll(List<CanonicalExample> examples) {
        int[] counts = new int[examples.size()];
        for (int i = 0; i < counts.length; i++) {
            counts[i] = count(examples.get(i));
        }
        return counts;
    }
}
