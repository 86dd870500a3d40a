package dev.finetune.registry.promotion;

import com.fasterxml.jackson.annotation.JsonIgnore;
import dev.finetune.errors.InvalidInputException;
import dev.finetune.registry.store.RegistryKeys;
import java.util.Locale;

/**
 * A model's promotion rule, {@code registry/<model>/_policy.json}: what a version must satisfy
 * before {@code alias} may point at it, checked on every move of that alias (by request or
 * automatically). Other aliases move freely.
 *
 * @param alias the guarded alias; default {@value #DEFAULT_ALIAS}
 * @param requirePassed the version's evaluation must have status passed (not gates_failed)
 * @param metric the metric the version must beat the alias's current version on, or null for none
 * @param higherIsBetter the metric's direction; null infers it from the name (loss, perplexity and
 *     error are lower-is-better, everything else higher-is-better)
 * @param minImprovement how much better than the current version it must be, in the metric's
 *     units; default 0: strictly better
 * @param autoPromote move the alias to each newly registered version that passes the rule
 */
public record PromotionPolicy(
        String alias,
        boolean requirePassed,
        String metric,
        Boolean higherIsBetter,
        Double minImprovement,
        boolean autoPromote) {
    public static final String DEFAULT_ALIAS = "production";

    public PromotionPolicy {
        alias = alias == null ? DEFAULT_ALIAS : RegistryKeys.requireAlias(alias);
        if (metric != null && metric.isBlank()) {
            throw new InvalidInputException(
                    "metric", "policy.metric must be a metric name or absent, got '" + metric + "'");
        }
        if (minImprovement != null && !(minImprovement >= 0)) {
            throw new InvalidInputException(
                    "minImprovement", "policy.minImprovement must be >= 0, got " + minImprovement);
        }
        if (minImprovement != null && metric == null) {
            throw new InvalidInputException("minImprovement", "policy.minImprovement needs policy.metric");
        }
        minImprovement = minImprovement == null ? 0.0 : minImprovement;
    }

    /** The metric's direction, as configured or inferred from its name. */
    @JsonIgnore
    public boolean isHigherBetter() {
        if (higherIsBetter != null) {
            return higherIsBetter;
        }
        String name = metric == null ? "" : metric.toLowerCase(Locale.ROOT);
        return !(name.contains("loss") || name.contains("perplexity") || name.contains("error"));
    }
}
