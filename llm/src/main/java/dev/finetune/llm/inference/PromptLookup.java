package dev.finetune.llm.inference;

import java.util.Arrays;
import java.util.Set;

/**
 * Draft tokens for a sequence from its own text, transformers' {@code PromptLookupCandidateGenerator}:
 * find the earliest earlier occurrence of the sequence's last {@value #MAX_NGRAM} tokens (else of its
 * last token) in the prompt and the tokens generated so far, and propose the tokens that followed it,
 * cut before the first stop token. Output that copies its input (quotes, extraction, code edits,
 * summaries) or repeats itself is drafted well; elsewhere there is often no occurrence, and no draft.
 */
final class PromptLookup {
    /** transformers' {@code max_matching_ngram_size} default. */
    static final int MAX_NGRAM = 2;

    private PromptLookup() {}

    /**
     * @param text the prompt followed by the tokens generated so far; its last token is the one the
     *     next forward pass starts from
     * @param maxTokens most tokens to propose
     * @return up to {@code maxTokens} tokens, possibly none
     */
    static long[] draft(long[] text, int maxTokens, Set<Long> stopTokens) {
        int length = text.length;
        if (maxTokens <= 0) {
            return new long[0];
        }
        for (int ngram = Math.min(MAX_NGRAM, length - 1); ngram >= 1; ngram--) {
            int suffix = length - ngram;
            // earliest match first; the suffix matching itself (start == suffix) has nothing after it
            for (int start = 0; start < suffix; start++) {
                if (Arrays.equals(text, start, start + ngram, text, suffix, length)) {
                    int from = start + ngram;
                    int to = Math.min(from + maxTokens, length);
                    int end = from;
                    while (end < to && !stopTokens.contains(text[end])) {
                        end++;
                    }
                    return Arrays.copyOfRange(text, from, end);
                }
            }
        }
        return new long[0];
    }

    /**
     * How many draft tokens to check next for one sequence: at first the configured most; after a
     * draft kept whole, two more (up to the most); after a rejection, one more than were kept. A run of
     * copied text soon checks long drafts, while text that does not repeat its input soon checks one
     * token at a time, whose pass costs little more than a decoding step.
     */
    static final class DraftLength {
        private final int most;
        private int next;

        DraftLength(int most) {
            this.most = most;
            this.next = most;
        }

        int next() {
            return next;
        }

        void checked(int drafted, int kept) {
            next = kept == drafted ? Math.min(most, next + 2) : Math.min(most, kept + 1);
        }
    }
}
