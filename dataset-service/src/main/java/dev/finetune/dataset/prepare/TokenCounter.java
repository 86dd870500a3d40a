package dev.finetune.dataset.prepare;

import dev.finetune.dataset.format.CanonicalExample;

/** Counts the tokens an example takes for the statistics (tokenizer name goes into the stats). */
public interface TokenCounter {
    /** What counts, e.g. the base model whose tokenizer is used. */
    String name();

    int count(CanonicalExample example);
}
