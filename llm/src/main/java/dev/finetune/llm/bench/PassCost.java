package dev.finetune.llm.bench;

/**
 * Seconds per pass after a prompt: a decoding step (one token), and speculative passes over the last
 * token and one or {@link InferenceBenchmark#LOOKUP_TOKENS} draft tokens, whose draft is then
 * dropped: what a speculative step costs when its draft is rejected whole.
 */
record PassCost(Samples decoding, Samples oneDraft, Samples fullDraft) {
    /** A rejected pass over the last token and one draft token, in decoding steps. */
    double oneDraftRatio() {
        return oneDraft.median() / decoding.median();
    }

    /** A rejected pass over the last token and the longest draft, in decoding steps. */
    double fullDraftRatio() {
        return fullDraft.median() / decoding.median();
    }
}
