package dev.finetune.llm.optim;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The shape of the learning rate after warmup, named as transformers' {@code lr_scheduler_type}.
 * Every type starts with the same linear warmup from 0 to the peak rate.
 */
public enum ScheduleType {
    /** The peak rate until the end ({@code constant_with_warmup}; {@code constant} when warmup is 0). */
    CONSTANT("constant"),
    /** Linear decay from the peak to 0 at the last step: transformers' default. */
    LINEAR("linear"),
    /** Half a cosine from the peak to 0 at the last step. */
    COSINE("cosine");

    private final String configName;

    ScheduleType(String configName) {
        this.configName = configName;
    }

    /** The name in job configs and checkpoints. */
    public String configName() {
        return configName;
    }

    /**
     * Parses a config name; {@code constant_with_warmup} is accepted as transformers spells it.
     *
     * @throws IllegalArgumentException naming the accepted values
     */
    public static ScheduleType parse(String name) {
        String normalised = name.strip().toLowerCase(Locale.ROOT);
        if (normalised.equals("constant_with_warmup")) {
            return CONSTANT;
        }
        for (ScheduleType type : values()) {
            if (type.configName.equals(normalised)) {
                return type;
            }
        }
        throw new IllegalArgumentException("lr_scheduler_type must be one of "
                + Arrays.stream(values()).map(ScheduleType::configName).collect(Collectors.joining(", "))
                + ", got \"" + name + "\"");
    }
}
