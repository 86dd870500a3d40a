package dev.finetune.llm.train;

import java.util.Arrays;
import java.util.Locale;

/** When the validation split is evaluated during training: transformers' {@code eval_strategy} values. */
public enum EvalStrategy {
    /** Never (transformers' default). */
    NO("no"),
    /** Every {@code eval_steps} optimizer steps. */
    STEPS("steps"),
    /** At the end of each epoch. */
    EPOCH("epoch");

    private final String configName;

    EvalStrategy(String configName) {
        this.configName = configName;
    }

    public String configName() {
        return configName;
    }

    public static EvalStrategy parse(String name) {
        String wanted = name.strip().toLowerCase(Locale.ROOT);
        return Arrays.stream(values())
                .filter(s -> s.configName.equals(wanted))
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException("unknown eval_strategy " + name));
    }
}
