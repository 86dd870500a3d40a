package dev.finetune.llm.train;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** What is trained: every weight, or LoRA adapters over a frozen fp32 or NF4 (QLoRA) base. */
public enum Method {
    FULL("full", 1e-5),
    LORA("lora", 2e-4),
    QLORA("qlora", 2e-4);

    private final String configName;
    private final double defaultLearningRate;

    Method(String configName, double defaultLearningRate) {
        this.configName = configName;
        this.defaultLearningRate = defaultLearningRate;
    }

    public String configName() {
        return configName;
    }

    /**
     * 1e-5 for full fine-tuning (every weight moves, so small steps; the common recipe for
     * instruction tuning), 2e-4 for LoRA and QLoRA (the QLoRA paper's and PEFT examples' value).
     */
    public double defaultLearningRate() {
        return defaultLearningRate;
    }

    public boolean usesAdapters() {
        return this != FULL;
    }

    public static Method parse(String name) {
        for (Method method : values()) {
            if (method.configName.equals(name.strip().toLowerCase(Locale.ROOT))) {
                return method;
            }
        }
        throw new IllegalArgumentException("method must be one of "
                + Arrays.stream(values()).map(Method::configName).collect(Collectors.joining(", ")) + ", got \""
                + name + "\"");
    }
}
