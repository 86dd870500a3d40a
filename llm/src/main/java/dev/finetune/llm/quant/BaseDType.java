package dev.finetune.llm.quant;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * How the frozen base's decoder-layer linears are stored (setting {@code base_dtype}): the exact fp32
 * weights, 8-bit ({@link Int8}) or 4-bit NF4 ({@link Nf4}) codes that are dequantised when the layer
 * computes. Under int8 and nf4 the frozen token embedding (a tied LM head with it) is int8; norms and
 * an untied LM head stay fp32 (see {@link BaseStorage}).
 */
public enum BaseDType {
    /** The weights as loaded: 32 bits a weight, exact. */
    FP32("fp32", 32),
    /** Per-output-row absmax int8: 8 bits a weight plus one fp32 scale per row. */
    INT8("int8", 8),
    /** QLoRA's 4-bit NormalFloat in blocks of 64: ~4.127 bits a weight with double quantisation. */
    NF4("nf4", 4.127);

    private final String configName;
    private final double bitsPerWeight;

    BaseDType(String configName, double bitsPerWeight) {
        this.configName = configName;
        this.bitsPerWeight = bitsPerWeight;
    }

    /** The name in settings and messages: fp32, int8, nf4. */
    public String configName() {
        return configName;
    }

    /** Resident bits per weight value of a large matrix (scales included), for memory estimates. */
    public double bitsPerWeight() {
        return bitsPerWeight;
    }

    public static BaseDType parse(String name) {
        for (BaseDType type : values()) {
            if (type.configName.equals(name.strip().toLowerCase(Locale.ROOT))) {
                return type;
            }
        }
        throw new IllegalArgumentException("base_dtype must be one of "
                + Arrays.stream(values()).map(BaseDType::configName).collect(Collectors.joining(", ")) + ", got \""
                + name + "\"");
    }
}
