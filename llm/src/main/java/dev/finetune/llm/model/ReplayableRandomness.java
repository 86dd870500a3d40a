package dev.finetune.llm.model;

/**
 * A module whose training forward pass draws random numbers (LoRA's dropout). Activation
 * checkpointing runs a layer's forward pass twice, once to go forward and once to rebuild its
 * activations for backward; it rewinds such modules in between so the second pass draws exactly the
 * same numbers, as {@code torch.utils.checkpoint} restores the RNG state.
 */
public interface ReplayableRandomness {
    /** Where the module's random sequence stands: its next forward pass draws from here. */
    long randomPosition();

    /** Moves the random sequence to a position {@link #randomPosition} returned. */
    void rewindRandom(long position);
}
