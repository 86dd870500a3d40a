package dev.finetune.llm.cli;

import dev.finetune.llm.tokenizer.Tokenizer;
import java.util.Arrays;

/**
 * Turns generated tokens into text as they arrive. A byte-level token can be part of a UTF-8
 * character, so each step decodes all tokens so far and releases only the text beyond what was
 * already released, holding it back while it ends in an incomplete character (U+FFFD), as
 * transformers' TextStreamer does. Special tokens (the stop token) are not shown. Decoding
 * everything again costs O(n) per token, negligible next to a forward pass.
 */
final class TextStream {
    private static final char INCOMPLETE = '\uFFFD';

    private final Tokenizer tokenizer;
    private int[] tokens = new int[0];
    private int released;

    TextStream(Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    /** The new text that {@code token} completes; empty while a character is incomplete. */
    String append(long token) {
        tokens = Arrays.copyOf(tokens, tokens.length + 1);
        tokens[tokens.length - 1] = Math.toIntExact(token);
        String text = tokenizer.decode(tokens, true);
        if (text.isEmpty() || text.charAt(text.length() - 1) == INCOMPLETE) {
            return "";
        }
        return release(text);
    }

    /** Whatever is still held back (an incomplete character at the very end is shown as U+FFFD). */
    String finish() {
        return release(tokenizer.decode(tokens, true));
    }

    private String release(String text) {
        if (text.length() <= released) {
            return "";
        }
        String fresh = text.substring(released);
        released = text.length();
        return fresh;
    }
}
