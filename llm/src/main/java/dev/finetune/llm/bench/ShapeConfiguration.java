package dev.finetune.llm.bench;

import dev.finetune.llm.quant.BaseDType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * One way of running a LoRA step on a real-size shape ({@code llm bench-train --shape --methods}):
 * how the frozen base is stored and whether activations are recomputed in backward. A quantised base
 * is always checkpointed (as the trainer does it), so its names say so.
 */
public enum ShapeConfiguration {
    /** fp32 base, every activation kept for backward: the reference the others are compared with. */
    LORA("lora", BaseDType.FP32, false),
    /** fp32 base, {@code gradient_checkpointing: true}. */
    LORA_CKPT("lora+ckpt", BaseDType.FP32, true),
    /** {@code base_dtype: int8}, checkpointed. */
    INT8_CKPT("int8+ckpt", BaseDType.INT8, true),
    /** {@code base_dtype: nf4} (QLoRA, double quantisation), checkpointed. */
    NF4_CKPT("nf4+ckpt", BaseDType.NF4, true);

    private final String cliName;
    private final BaseDType base;
    private final boolean checkpointing;

    ShapeConfiguration(String cliName, BaseDType base, boolean checkpointing) {
        this.cliName = cliName;
        this.base = base;
        this.checkpointing = checkpointing;
    }

    public String cliName() {
        return cliName;
    }

    public BaseDType base() {
        return base;
    }

    public boolean checkpointing() {
        return checkpointing;
    }

    public static ShapeConfiguration parse(String name) {
        for (ShapeConfiguration configuration : values()) {
            if (configuration.cliName.equals(name.strip().toLowerCase(Locale.ROOT))) {
                return configuration;
            }
        }
        throw new IllegalArgumentException("--methods takes a comma-separated list of "
                + Arrays.stream(values()).map(ShapeConfiguration::cliName).collect(Collectors.joining(", "))
                + "; got \"" + name + "\"");
    }

    /** A comma-separated list, in the order given, each name once. */
    public static List<ShapeConfiguration> parseList(String list) {
        List<ShapeConfiguration> parsed = new ArrayList<>();
        for (String name : list.split(",")) {
            ShapeConfiguration configuration = parse(name);
            if (!parsed.contains(configuration)) {
                parsed.add(configuration);
            }
        }
        return parsed;
    }
}
