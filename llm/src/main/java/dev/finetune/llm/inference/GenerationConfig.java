package dev.finetune.llm.inference;

import dev.finetune.llm.checkpoint.GenerationDefaults;
import java.util.Set;

/**
 * How to continue prompts, with transformers' generation names in mind.
 *
 * @param maxNewTokens upper bound on generated tokens per sequence
 * @param temperature 0 for greedy decoding; otherwise logits are divided by it before sampling
 * @param topK sample among the k most probable tokens only (0 = no limit), applied before topP
 * @param topP nucleus sampling: sample among the most probable tokens whose mass reaches topP (1 = all)
 * @param seed seeds the sampling: sequence r of a call (prompt i's sample j is r = i * n + j) draws
 *     from its own stream seeded with {@code seed + r}, so a sequence does not depend on the others
 *     in its batch
 * @param stopTokens a sequence ends after emitting one of these (it is included in the output)
 * @param useKvCache reuse keys/values of earlier positions (false recomputes the whole sequence per
 *     token; same tokens, much slower; kept to check the cache)
 * @param numReturnSequences n: sequences per prompt; the n continuations of a prompt share its
 *     prompt processing (its KV cache rows are copied, not recomputed)
 * @param promptLookupTokens transformers' {@code prompt_lookup_num_tokens}: when a sequence decodes
 *     alone, up to this many tokens that followed an earlier occurrence of its last tokens (in the
 *     prompt or its own output) are checked in one forward pass, and the ones greedy decoding would
 *     have chosen are kept; 0 turns it off. Greedy only: the tokens are the same either way.
 */
public record GenerationConfig(
        int maxNewTokens,
        double temperature,
        int topK,
        double topP,
        long seed,
        Set<Long> stopTokens,
        boolean useKvCache,
        int numReturnSequences,
        int promptLookupTokens) {
    /** Most draft tokens a verification pass may check: more would rarely all be accepted. */
    public static final int MAX_PROMPT_LOOKUP_TOKENS = 64;

    public GenerationConfig {
        if (maxNewTokens < 0) {
            throw new IllegalArgumentException("generation.maxNewTokens must be non-negative, got " + maxNewTokens);
        }
        if (!(temperature >= 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException(
                    "generation.temperature must be 0 (greedy) or positive, got " + temperature);
        }
        if (topK < 0) {
            throw new IllegalArgumentException("generation.topK must be 0 (no limit) or positive, got " + topK);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("generation.topP must be in (0, 1], got " + topP);
        }
        if (numReturnSequences < 1) {
            throw new IllegalArgumentException(
                    "generation.numReturnSequences must be at least 1, got " + numReturnSequences);
        }
        if (promptLookupTokens < 0 || promptLookupTokens > MAX_PROMPT_LOOKUP_TOKENS) {
            throw new IllegalArgumentException("generation.promptLookupTokens must be in [0, "
                    + MAX_PROMPT_LOOKUP_TOKENS + "] (0 = off), got " + promptLookupTokens);
        }
        if (promptLookupTokens > 0 && temperature != 0) {
            throw new IllegalArgumentException("generation.promptLookupTokens needs greedy decoding (temperature 0), "
                    + "got temperature " + temperature);
        }
        stopTokens = Set.copyOf(stopTokens);
    }

    /** Greedy decoding with the KV cache, no stop tokens, one sequence per prompt. */
    public static GenerationConfig greedy(int maxNewTokens) {
        return new GenerationConfig(maxNewTokens, 0, 0, 1, 0, Set.of(), true, 1, 0);
    }

    /**
     * What a model's {@code generation_config.json} asks for ({@code defaults}): greedy unless it
     * samples, then its temperature, top-k and top-p; its {@code max_new_tokens}, else {@code
     * fallbackMaxNewTokens}.
     */
    public static GenerationConfig of(GenerationDefaults defaults, int fallbackMaxNewTokens, long seed) {
        GenerationConfig greedy = greedy(defaults.maxNewTokens().orElse(fallbackMaxNewTokens));
        return defaults.doSample()
                ? greedy.withSampling(defaults.temperature(), defaults.topP(), seed)
                        .withTopK(defaults.topK())
                : greedy;
    }

    public GenerationConfig withMaxNewTokens(int newMaxNewTokens) {
        return new GenerationConfig(
                newMaxNewTokens,
                temperature,
                topK,
                topP,
                seed,
                stopTokens,
                useKvCache,
                numReturnSequences,
                promptLookupTokens);
    }

    public GenerationConfig withSampling(double newTemperature, double newTopP, long newSeed) {
        return new GenerationConfig(
                maxNewTokens,
                newTemperature,
                topK,
                newTopP,
                newSeed,
                stopTokens,
                useKvCache,
                numReturnSequences,
                promptLookupTokens);
    }

    public GenerationConfig withTopK(int newTopK) {
        return new GenerationConfig(
                maxNewTokens,
                temperature,
                newTopK,
                topP,
                seed,
                stopTokens,
                useKvCache,
                numReturnSequences,
                promptLookupTokens);
    }

    public GenerationConfig withStopTokens(Set<Long> newStopTokens) {
        return new GenerationConfig(
                maxNewTokens,
                temperature,
                topK,
                topP,
                seed,
                newStopTokens,
                useKvCache,
                numReturnSequences,
                promptLookupTokens);
    }

    public GenerationConfig withKvCache(boolean enabled) {
        return new GenerationConfig(
                maxNewTokens,
                temperature,
                topK,
                topP,
                seed,
                stopTokens,
                enabled,
                numReturnSequences,
                promptLookupTokens);
    }

    public GenerationConfig withNumReturnSequences(int n) {
        return new GenerationConfig(
                maxNewTokens, temperature, topK, topP, seed, stopTokens, useKvCache, n, promptLookupTokens);
    }

    public GenerationConfig withPromptLookup(int tokens) {
        return new GenerationConfig(
                maxNewTokens, temperature, topK, topP, seed, stopTokens, useKvCache, numReturnSequences, tokens);
    }

    /** Whether the next token is chosen by argmax (temperature 0). */
    public boolean greedyDecoding() {
        return temperature == 0;
    }
}
