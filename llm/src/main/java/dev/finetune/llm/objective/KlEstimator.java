package dev.finetune.llm.objective;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * How PPO estimates the KL divergence of the policy from the reference at each sampled token, named as
 * TRL's {@code PPOConfig.kl_estimator} (Schulman, "Approximating KL divergence", 2020). With {@code
 * r = ref_logp - logp} of the sampled token:
 */
public enum KlEstimator {
    /** {@code k1 = -r = logp - ref_logp}: unbiased, but negative on some tokens (TRL's default). */
    K1("k1"),
    /** {@code k3 = (exp(r) - 1) - r}: unbiased and never negative, lower variance. */
    K3("k3");

    private final String configName;

    KlEstimator(String configName) {
        this.configName = configName;
    }

    public String configName() {
        return configName;
    }

    /** The estimate at one token from the policy's and the reference's log-probabilities of it. */
    public double estimate(double logProb, double referenceLogProb) {
        double r = referenceLogProb - logProb;
        return switch (this) {
            case K1 -> -r;
            case K3 -> Math.expm1(r) - r;
        };
    }

    public static KlEstimator parse(String name) {
        for (KlEstimator estimator : values()) {
            if (estimator.configName.equals(name.strip().toLowerCase(Locale.ROOT))) {
                return estimator;
            }
        }
        throw new IllegalArgumentException("kl_estimator must be one of "
                + Arrays.stream(values()).map(KlEstimator::configName).collect(Collectors.joining(", "))
                + ", got \"" + name + "\"");
    }
}
