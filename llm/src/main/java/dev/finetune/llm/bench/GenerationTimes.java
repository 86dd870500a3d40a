package dev.finetune.llm.bench;

/**
 * Timed generation calls of one workload: the whole call, and the time to its first token (the
 * prompts processed and one token chosen for each sequence).
 *
 * @param sequences sequences each call continues (prompts x samples per prompt)
 */
record GenerationTimes(int sequences, Samples total, Samples firstToken) {

    /** New tokens per second over whole calls, prompt processing included. */
    double tokensPerSecond(int newTokens) {
        return sequences * newTokens / total.median();
    }

    /** New tokens per second after the first: decoding steps alone. */
    double decodeTokensPerSecond(int newTokens) {
        return sequences * (newTokens - 1) / (total.median() - firstToken.median());
    }
}
