package dev.finetune.llm.objective;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * DPO's loss on the margin {@code logits = (log p(chosen) - log p(rejected)) - (the reference's)}, named
 * and computed as TRL's {@code DPOTrainer.dpo_loss} with {@code loss_type}; {@code x = beta * logits},
 * eps = {@code label_smoothing}. {@link DpoLoss} computes them.
 */
public enum DpoLossType implements LossType {
    /**
     * {@code -log sigmoid(x) (1 - eps) - log sigmoid(-x) eps}: the DPO paper's loss; eps > 0 is
     * conservative DPO (labels flipped with probability eps).
     */
    SIGMOID("sigmoid"),
    /**
     * {@code (-log sigmoid(x) (1 - eps) + log sigmoid(-x) eps) / (1 - 2 eps)}: robust DPO (Chowdhury et al.
     * 2024), unbiased under labels flipped with probability eps.
     */
    ROBUST("robust"),
    /** {@code relu(1 - x)}: the SLiC paper's hinge loss. */
    HINGE("hinge"),
    /**
     * {@code (logits - 1 / (2 beta))^2}: IPO (Azar et al. 2023), on log-probabilities averaged over each
     * completion's tokens instead of summed.
     */
    IPO("ipo");

    private final String configName;

    DpoLossType(String configName) {
        this.configName = configName;
    }

    public String configName() {
        return configName;
    }

    /** Whether the loss reads {@code label_smoothing} (TRL ignores it for hinge and ipo). */
    public boolean usesLabelSmoothing() {
        return this == SIGMOID || this == ROBUST;
    }

    /** Whether a sequence's score is its mean token log-probability (ipo) rather than the sum. */
    public boolean averagesOverTokens() {
        return this == IPO;
    }

    public static DpoLossType parse(String name) {
        for (DpoLossType type : values()) {
            if (type.configName.equals(name.strip().toLowerCase(Locale.ROOT))) {
                return type;
            }
        }
        throw new IllegalArgumentException("loss_type must be one of "
                + Arrays.stream(values()).map(DpoLossType::configName).collect(Collectors.joining(", "))
                + ", got \"" + name + "\"");
    }
}
