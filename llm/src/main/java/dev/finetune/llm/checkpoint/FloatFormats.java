package dev.finetune.llm.checkpoint;

/**
 * Conversions between fp32 and the 16-bit float formats of checkpoints, done in Java because a
 * BF16 NDArray aborts the JVM in DJL's PyTorch engine (its native dtype table has no bf16).
 * Narrowing rounds to nearest, ties to even, as PyTorch does.
 */
public final class FloatFormats {
    private FloatFormats() {}

    /** bf16 is the upper half of an fp32 bit pattern, so widening is exact. */
    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xffff) << 16);
    }

    public static short floatToBf16(float value) {
        int bits = Float.floatToRawIntBits(value);
        if (Float.isNaN(value)) {
            return (short) ((bits >>> 16) | 0x0040); // keep sign, force a quiet NaN
        }
        int roundingBias = 0x7fff + ((bits >>> 16) & 1);
        return (short) ((bits + roundingBias) >>> 16);
    }

    /** IEEE 754 binary16 to fp32 (exact: every half is representable as a float). */
    public static float halfToFloat(short bits) {
        int h = bits & 0xffff;
        int sign = (h & 0x8000) << 16;
        int exponent = (h >>> 10) & 0x1f;
        int mantissa = h & 0x3ff;
        if (exponent == 0) {
            // zero or subnormal: mantissa * 2^-24, exact in fp32
            float magnitude = mantissa * 0x1p-24f;
            return sign == 0 ? magnitude : -magnitude;
        }
        if (exponent == 0x1f) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (mantissa << 13));
        }
        return Float.intBitsToFloat(sign | ((exponent - 15 + 127) << 23) | (mantissa << 13));
    }

    public static short floatToHalf(float value) {
        int bits = Float.floatToRawIntBits(value);
        int sign = (bits >>> 16) & 0x8000;
        int exponent = (bits >>> 23) & 0xff;
        int mantissa = bits & 0x7fffff;
        if (exponent == 0xff) {
            return (short) (sign | 0x7c00 | (mantissa != 0 ? 0x200 | (mantissa >>> 13) : 0));
        }
        int halfExponent = exponent - 127 + 15;
        if (halfExponent >= 0x1f) {
            return (short) (sign | 0x7c00); // too large: infinity
        }
        if (halfExponent <= 0) {
            if (halfExponent < -10) {
                return (short) sign; // below half the smallest subnormal: zero
            }
            int full = mantissa | 0x800000; // restore the implicit leading 1
            int shift = 14 - halfExponent;
            int result = full >>> shift;
            int remainder = full & ((1 << shift) - 1);
            int half = 1 << (shift - 1);
            if (remainder > half || (remainder == half && (result & 1) == 1)) {
                result++; // may carry into the smallest normal, which is the right encoding
            }
            return (short) (sign | result);
        }
        int result = sign | (halfExponent << 10) | (mantissa >>> 13);
        int remainder = mantissa & 0x1fff;
        if (remainder > 0x1000 || (remainder == 0x1000 && (result & 1) == 1)) {
            result++; // a carry into the exponent (even up to infinity) is correct rounding
        }
        return (short) result;
    }
}
