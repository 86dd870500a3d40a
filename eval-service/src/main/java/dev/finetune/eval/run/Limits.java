package dev.finetune.eval.run;

import dev.finetune.eval.EvalSettings;

/**
 * How much of a dataset was evaluated; part of the base-metrics cache key, since other limits give
 * other numbers.
 */
public record Limits(int maxExamples, int maxGenerationExamples, int maxTokens, int maxNewTokens) {
    public Limits {
        requirePositive("pipeline.eval.max-examples", maxExamples);
        requirePositive("pipeline.eval.max-tokens", maxTokens);
        if (maxGenerationExamples < 0) {
            throw new IllegalArgumentException(
                    "pipeline.eval.max-generation-examples must be >= 0, got " + maxGenerationExamples);
        }
        requirePositive("pipeline.eval.max-new-tokens", maxNewTokens);
    }

    public static Limits of(EvalSettings settings) {
        return new Limits(
                settings.maxExamples(),
                settings.maxGenerationExamples(),
                settings.maxTokens(),
                settings.maxNewTokens());
    }

    /** A short stable name of these limits for keys: {@code e200-g50-t1024-n128}. */
    public String key() {
        return "e" + maxExamples + "-g" + maxGenerationExamples + "-t" + maxTokens + "-n" + maxNewTokens;
    }

    private static void requirePositive(String name, int value) {
        if (value < 1) {
            throw new IllegalArgumentException(name + " must be a positive integer, got " + value);
        }
    }
}
