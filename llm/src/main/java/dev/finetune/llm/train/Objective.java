package dev.finetune.llm.train;

import java.util.Locale;

/** The training objective, which also fixes the dataset form. */
public enum Objective {
    /** Supervised fine-tuning on conversations {@code {"messages": [...]}}. */
    SFT("sft"),
    /** Direct preference optimisation on {@code {"prompt": [...], "chosen": [...], "rejected": [...]}}. */
    DPO("dpo");

    private final String configName;

    Objective(String configName) {
        this.configName = configName;
    }

    public String configName() {
        return configName;
    }

    public static Objective parse(String name) {
        for (Objective objective : values()) {
            if (objective.configName.equals(name.strip().toLowerCase(Locale.ROOT))) {
                return objective;
            }
        }
        throw new IllegalArgumentException("objective must be sft or dpo, got \"" + name + "\"");
    }
}
