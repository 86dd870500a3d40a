package dev.finetune.llm.checkpoint;

import java.util.Optional;

/**
 * The element types a safetensors header may name, with their sizes in bytes. Only {@link #F32},
 * {@link #F16} and {@link #BF16} can be read as model weights; the others are known so that a file
 * holding them is described precisely instead of being rejected as garbage.
 */
public enum DType {
    BOOL(1),
    U8(1),
    I8(1),
    F8_E4M3(1),
    F8_E5M2(1),
    I16(2),
    U16(2),
    F16(2),
    BF16(2),
    I32(4),
    U32(4),
    F32(4),
    F64(8),
    I64(8),
    U64(8);

    private final int bytes;

    DType(int bytes) {
        this.bytes = bytes;
    }

    /** Size of one element in bytes. */
    public int bytes() {
        return bytes;
    }

    /** Whether tensors of this type can be read as (widened to) fp32 weights. */
    public boolean isFloatWeight() {
        return this == F32 || this == F16 || this == BF16;
    }

    /** The dtype spelled as in a safetensors header ("F32", "BF16", ...), if it is one. */
    public static Optional<DType> fromHeaderName(String name) {
        for (DType type : values()) {
            if (type.name().equals(name)) {
                return Optional.of(type);
            }
        }
        return Optional.empty();
    }
}
