package dev.finetune.dataset.tokens;

import dev.finetune.dataset.format.CanonicalExample;
import dev.finetune.dataset.prepare.TokenCounter;
import java.nio.charset.StandardCharsets;

/**
 * Used when no tokenizer is named anywhere: about four UTF-8 bytes per token, the usual ratio of
 * byte-level BPE vocabularies on English text. The statistics say so in their tokenizer field.
 */
public final class ApproximateTokenCounter implements TokenCounter {
    @Override
    public String name() {
        return "approximate (UTF-8 bytes / 4)";
    }

    @Override
    public int count(CanonicalExample example) {
        if (example.tokens() != null) {
            return TokenCounter.tokenized(example);
        }
        long bytes = example.text().getBytes(StandardCharsets.UTF_8).length;
        return (int) Math.min(Integer.MAX_VALUE, (bytes + 3) / 4);
    }
}
