package dev.finetune.llm.quant;

import dev.finetune.llm.checkpoint.CheckpointException;

/**
 * 4-bit NormalFloat quantisation (Dettmers et al. 2023, "QLoRA"), in Java: blockwise absmax scaling
 * to [-1, 1], then the nearest of 16 code values that are quantiles of a normal distribution, so
 * that normally distributed weights use every code about equally. Optional double quantisation of
 * the scales; see {@link Nf4Weight.DoubleQuantizedScales}. Quantisation runs once, when a model is
 * loaded (streaming each tensor from the checkpoint) or prepared for QLoRA; dequantisation runs in
 * the engine ({@link Nf4Linear}).
 *
 * <p>Unlike bitsandbytes, which quantises the scales with an 8-bit float code, the scales' 8-bit
 * code here is symmetric linear int8 ({@code round(x / absmax * 127)}); the size is the same.
 */
public final class Nf4 {
    /** Values per block sharing one absmax: QLoRA's block size for weights. */
    public static final int BLOCK_SIZE = 64;
    /** Scales per group sharing one fp32 absmax under double quantisation: QLoRA's value. */
    public static final int SCALE_BLOCK_SIZE = 256;
    /** Blocks read per call when streaming a weight: 1M values (4 MB of fp32) at a time. */
    private static final int BLOCKS_PER_READ = 1 << 14;

    /** The NF4 code values as published (QLoRA appendix E; bitsandbytes' NF4 table). */
    static final float[] CODE_VALUES = {
        -1.0f,
        -0.6961928009986877f,
        -0.5250730514526367f,
        -0.39491748809814453f,
        -0.28444138169288635f,
        -0.18477343022823334f,
        -0.09105003625154495f,
        0.0f,
        0.07958029955625534f,
        0.16093020141124725f,
        0.24611230194568634f,
        0.33791524171829224f,
        0.44070982933044434f,
        0.5626170039176941f,
        0.7229568362236023f,
        1.0f
    };
    /** The code of 0.0, used for padding. */
    static final int ZERO_CODE = 7;

    /** Decision thresholds: value x gets code i when MIDPOINTS[i-1] < x <= MIDPOINTS[i]. */
    private static final float[] MIDPOINTS = new float[CODE_VALUES.length - 1];

    static {
        for (int i = 0; i < MIDPOINTS.length; i++) {
            MIDPOINTS[i] = (float) (((double) CODE_VALUES[i] + CODE_VALUES[i + 1]) / 2);
        }
    }

    private Nf4() {}

    /** The code whose value is nearest to {@code normalized} (in [-1, 1]); an exact tie goes down. */
    static int nearestCode(float normalized) {
        int low = 0;
        int high = MIDPOINTS.length; // binary search for the first midpoint >= normalized
        while (low < high) {
            int mid = (low + high) >>> 1;
            if (MIDPOINTS[mid] < normalized) {
                low = mid + 1;
            } else {
                high = mid;
            }
        }
        return low;
    }

    /** Number of blocks of {@code size} that hold {@code count} values. */
    static int blocks(long count, int size) {
        return Math.toIntExact((count + size - 1) / size);
    }

    /**
     * Quantises {@code values} (row-major, of the given shape) to NF4.
     *
     * @param doubleQuantization also quantise the block scales to 8 bits
     */
    public static Nf4Weight quantize(float[] values, long[] shape, boolean doubleQuantization) {
        try {
            return quantize(Values.of(values), values.length, shape, doubleQuantization);
        } catch (CheckpointException e) {
            throw new IllegalStateException(e); // reading a Java array cannot fail
        }
    }

    /** As {@link #quantize(float[], long[], boolean)}, reading {@code count} values a chunk at a time. */
    static Nf4Weight quantize(Values values, long count, long[] shape, boolean doubleQuantization)
            throws CheckpointException {
        int blocks = blocks(count, BLOCK_SIZE);
        float[] absmax = new float[blocks];
        byte[] packed = new byte[blocks * BLOCK_SIZE / 2];
        float[] chunk = new float[(int) Math.min((long) BLOCKS_PER_READ * BLOCK_SIZE, Math.max(count, 1))];
        for (long first = 0; first < count; first += chunk.length) {
            int n = (int) Math.min(chunk.length, count - first);
            values.read(first, chunk, n);
            for (int start = 0; start < n; start += BLOCK_SIZE) {
                int b = (int) ((first + start) / BLOCK_SIZE);
                int end = Math.min(n, start + BLOCK_SIZE);
                float max = 0;
                for (int i = start; i < end; i++) {
                    max = Math.max(max, Math.abs(chunk[i]));
                }
                absmax[b] = max;
                float divisor = max > 0 ? max : 1;
                for (int k = 0; k < BLOCK_SIZE; k++) {
                    int i = start + k;
                    int code = i < end ? nearestCode(chunk[i] / divisor) : ZERO_CODE;
                    int at = b * BLOCK_SIZE + k;
                    packed[at / 2] |= (byte) ((at % 2 == 0) ? code << 4 : code); // first of a pair: high nibble
                }
            }
        }
        Nf4Weight.Scales scales = doubleQuantization ? quantizeScales(absmax) : new Nf4Weight.Fp32Scales(absmax);
        return new Nf4Weight(shape.clone(), packed, scales);
    }

    /** Double quantisation: subtract the mean, then int8 with one fp32 absmax per 256 scales. */
    static Nf4Weight.DoubleQuantizedScales quantizeScales(float[] absmax) {
        double sum = 0;
        for (float a : absmax) {
            sum += a;
        }
        float mean = (float) (sum / absmax.length);
        int groups = blocks(absmax.length, SCALE_BLOCK_SIZE);
        byte[] codes = new byte[absmax.length];
        float[] step = new float[groups];
        for (int g = 0; g < groups; g++) {
            int start = g * SCALE_BLOCK_SIZE;
            int end = Math.min(absmax.length, start + SCALE_BLOCK_SIZE);
            float max = 0;
            for (int i = start; i < end; i++) {
                max = Math.max(max, Math.abs(absmax[i] - mean));
            }
            float divisor = max > 0 ? max : 1;
            for (int i = start; i < end; i++) {
                codes[i] = (byte) Math.rint((absmax[i] - mean) / divisor * 127f); // half to even, |q| <= 127
            }
            step[g] = max / 127f;
        }
        return new Nf4Weight.DoubleQuantizedScales(codes, step, mean);
    }
}
