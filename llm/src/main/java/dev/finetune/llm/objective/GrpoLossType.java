package dev.finetune.llm.objective;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * How GRPO turns its per-token losses {@code l_{i,t}} (completion i, token t, over the completion's
 * |o_i| tokens) into one number, named as TRL's {@code GRPOConfig.loss_type}. With gradient accumulation
 * the step's loss is over its whole window (see each constant); {@link GrpoLoss} computes them.
 */
public enum GrpoLossType implements LossType {
    /**
     * {@code mean_i( sum_t l_{i,t} / |o_i| )}: the GRPO paper's, each completion's token mean, then the
     * mean over the window's completions. Favours short right answers and long wrong ones.
     */
    GRPO("grpo"),
    /**
     * {@code sum_{i,t} l_{i,t} / sum_i |o_i|} over each micro-batch, then the mean over the window's
     * micro-batches (TRL's "local batch"; equals dapo with one micro-batch per step).
     */
    BNPO("bnpo"),
    /** {@code sum_{i,t} l_{i,t} / (completions x max_completion_length)}: Dr. GRPO's constant normaliser. */
    DR_GRPO("dr_grpo"),
    /** {@code sum_{i,t} l_{i,t} / sum_i |o_i|} over the whole window: DAPO's token-level loss (TRL's default). */
    DAPO("dapo");

    private final String configName;

    GrpoLossType(String configName) {
        this.configName = configName;
    }

    @Override
    public String configName() {
        return configName;
    }

    public static GrpoLossType parse(String name) {
        for (GrpoLossType type : values()) {
            if (type.configName.equals(name.strip().toLowerCase(Locale.ROOT))) {
                return type;
            }
        }
        throw new IllegalArgumentException("loss_type must be one of "
                + Arrays.stream(values()).map(GrpoLossType::configName).collect(Collectors.joining(", "))
                + ", got \"" + name + "\"");
    }
}
