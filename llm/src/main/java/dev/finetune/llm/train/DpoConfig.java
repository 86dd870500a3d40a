package dev.finetune.llm.train;

/**
 * Settings of the DPO objective (sigmoid loss).
 *
 * @param beta strength of the pull towards the reference model; larger keeps the policy closer.
 *     Default 0.1: the DPO paper's and TRL's default.
 * @param maxPromptLength prompts keep their last this many tokens. Default 512: TRL's default.
 */
public record DpoConfig(double beta, int maxPromptLength) {
    public DpoConfig {
        if (!(beta > 0) || Double.isInfinite(beta)) {
            throw new IllegalArgumentException("dpo.beta must be > 0, got " + beta);
        }
        if (maxPromptLength <= 0) {
            throw new IllegalArgumentException("dpo.max_prompt_length must be > 0, got " + maxPromptLength);
        }
    }

    public static DpoConfig defaults() {
        return new DpoConfig(0.1, 512);
    }

    public DpoConfig withBeta(double value) {
        return new DpoConfig(value, maxPromptLength);
    }

    public DpoConfig withMaxPromptLength(int value) {
        return new DpoConfig(beta, value);
    }
}
