package dev.finetune.llm.train;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** DPO's loss on the implicit reward margin, named as TRL's {@code loss_type}. */
public enum DpoLossType {
    /** {@code -log sigmoid(beta * margin)}: the DPO paper's loss. */
    SIGMOID("sigmoid");

    private final String configName;

    DpoLossType(String configName) {
        this.configName = configName;
    }

    public String configName() {
        return configName;
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
