package dev.finetune.llm.inference;

import java.util.Set;

/**
 * How to continue prompts.
 *
 * @param maxNewTokens upper bound on generated tokens per sequence
 * @param temperature 0 for greedy decoding; otherwise logits are divided by it before sampling
 * @param topP nucleus sampling: sample among the most probable tokens whose mass reaches topP (1 = all)
 * @param seed seeds the sampler, so sampling is reproducible
 * @param stopTokens a sequence ends after emitting one of these (it is included in the output)
 * @param useKvCache reuse keys/values of earlier positions (false recomputes the whole sequence per
 *     token; same tokens, much slower; kept to check the cache)
 */
public record GenerationConfig(
        int maxNewTokens, double temperature, double topP, long seed, Set<Long> stopTokens, boolean useKvCache) {

    public GenerationConfig {
        if (maxNewTokens < 0) {
            throw new IllegalArgumentException("generation.maxNewTokens must be non-negative, got " + maxNewTokens);
        }
        if (!(temperature >= 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException(
                    "generation.temperature must be 0 (greedy) or positive, got " + temperature);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("generation.topP must be in (0, 1], got " + topP);
        }
        stopTokens = Set.copyOf(stopTokens);
    }

    /** Greedy decoding with the KV cache and no stop tokens. */
    public static GenerationConfig greedy(int maxNewTokens) {
        return new GenerationConfig(maxNewTokens, 0, 1, 0, Set.of(), true);
    }

    public GenerationConfig withSampling(double newTemperature, double newTopP, long newSeed) {
        return new GenerationConfig(maxNewTokens, newTemperature, newTopP, newSeed, stopTokens, useKvCache);
    }

    public GenerationConfig withStopTokens(Set<Long> newStopTokens) {
        return new GenerationConfig(maxNewTokens, temperature, topP, seed, newStopTokens, useKvCache);
    }

    public GenerationConfig withKvCache(boolean enabled) {
        return new GenerationConfig(maxNewTokens, temperature, topP, seed, stopTokens, enabled);
    }
}
