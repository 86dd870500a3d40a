package dev.finetune.llm.inference;

/**
 * Receives generated tokens as they are sampled, before the next forward pass runs: what streaming
 * output needs. {@link Generator} calls it on the calling thread, step by step and within a step
 * in batch order; a sequence's stop token is passed on too, and a finished sequence gets no
 * further calls. An exception thrown here ends the generation and reaches the caller.
 */
@FunctionalInterface
public interface TokenListener {
    /** Ignores every token. */
    TokenListener NONE = (sequence, step, token) -> {};

    /**
     * @param sequence the prompt's index in the batch
     * @param step the token's index among its sequence's new tokens (0 for the first)
     * @param token the sampled token id
     */
    void onToken(int sequence, int step, long token);

    /**
     * A speculative step ({@link GenerationConfig#promptLookupTokens}) checked {@code drafted} draft
     * tokens for {@code sequence} and kept the first {@code kept}; called before those tokens are
     * heard. Ignored unless overridden.
     */
    default void onDraftChecked(int sequence, int drafted, int kept) {}
}
