package dev.finetune.llm.quant;

/**
 * A weight quantised to NF4, in Java arrays: codes packed two per byte and the per-block scales,
 * plain fp32 or double-quantised. {@link Nf4#quantize} makes one; {@link Nf4Linear} moves it to the
 * engine.
 *
 * @param shape the weight's shape ([O, I] for a linear)
 * @param packedCodes two 4-bit codes per byte, the first of a pair in the high nibble
 *     (bitsandbytes' layout); the last block is padded with the code of 0.0
 * @param scales the absmax of each block of {@value Nf4#BLOCK_SIZE} values
 */
public record Nf4Weight(long[] shape, byte[] packedCodes, Scales scales) {

    /** Per-block scales of an NF4 weight. */
    public sealed interface Scales permits Fp32Scales, DoubleQuantizedScales {
        /** Number of blocks the scales describe. */
        int blocks();

        /** Bytes the scales occupy. */
        long bytes();
    }

    /** One fp32 absmax per block: 32 / 64 = 0.5 bits per weight value. */
    public record Fp32Scales(float[] absmax) implements Scales {
        @Override
        public int blocks() {
            return absmax.length;
        }

        @Override
        public long bytes() {
            return 4L * absmax.length;
        }
    }

    /**
     * QLoRA's double quantisation: block absmax minus their {@code mean}, in groups of {@value
     * Nf4#SCALE_BLOCK_SIZE}, each group as int8 {@code codes} times its fp32 {@code step} (the
     * group's absmax / 127): 8 / 64 + 32 / (64 * 256) = 0.127 bits per weight value. The scale of
     * block b is {@code codes[b] * step[b / 256] + mean}.
     */
    public record DoubleQuantizedScales(byte[] codes, float[] step, float mean) implements Scales {
        @Override
        public int blocks() {
            return codes.length;
        }

        @Override
        public long bytes() {
            return codes.length + 4L * step.length + 4;
        }
    }

    /** Number of weight values. */
    public long count() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    /** Bytes of codes and scales: what the weight occupies in memory. */
    public long residentBytes() {
        return packedCodes.length + scales.bytes();
    }
}
