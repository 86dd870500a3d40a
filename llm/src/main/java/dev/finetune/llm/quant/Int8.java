package dev.finetune.llm.quant;

import dev.finetune.llm.checkpoint.CheckpointException;
import java.nio.ByteBuffer;

/**
 * 8-bit storage of a frozen linear weight, as bitsandbytes' {@code Int8Params} stores it for {@code
 * load_in_8bit} (LLM.int8()'s vector-wise quantisation): each output row is scaled by its absolute
 * maximum to [-127, 127] and rounded to the nearest integer ({@code round(w * 127 / absmax)}, ties to
 * even as {@code torch.round}), so {@code w ~ code * absmax / 127}. The error of a value is at most
 * half a step, {@code absmax(row) / 254}.
 *
 * <p>Unlike LLM.int8(), there is no outlier decomposition: bitsandbytes keeps the input features
 * whose activations exceed a threshold (6.0 by default) in 16 bits and multiplies them separately;
 * here every weight is int8 and the product is computed in fp32 with the dequantised weight (the
 * activations are not quantised either, which is where LLM.int8() needs the outlier path). This is
 * bitsandbytes' storage with {@code llm_int8_threshold} at 0 and an fp32 matmul.
 */
public final class Int8 {
    /** The largest code: symmetric, so -127..127 (as bitsandbytes; -128 is never used). */
    static final int MAX_CODE = 127;
    /** Rows read per call when streaming a weight: about 1M values (4 MB of fp32) at a time. */
    private static final int VALUES_PER_READ = 1 << 20;

    private Int8() {}

    /** Quantises a weight [O, I] given as row-major values. */
    public static Int8Weight quantize(float[] values, long[] shape) {
        try {
            return quantize(Values.of(values), shape);
        } catch (CheckpointException e) {
            throw new IllegalStateException(e); // reading a Java array cannot fail
        }
    }

    /** Quantises a weight [O, I] read a block of rows at a time from {@code values}. */
    static Int8Weight quantize(Values values, long[] shape) throws CheckpointException {
        if (shape.length != 2) {
            throw new IllegalArgumentException("a linear weight is [O, I], got " + java.util.Arrays.toString(shape));
        }
        int rows = Math.toIntExact(shape[0]);
        int columns = Math.toIntExact(shape[1]);
        byte[] codes = new byte[Math.multiplyExact(rows, columns)];
        float[] scales = new float[rows];
        quantizeRows(values, 0, rows, columns, ByteBuffer.wrap(codes), scales);
        return new Int8Weight(shape.clone(), codes, scales);
    }

    /**
     * Quantises rows {@code [firstRow, firstRow + rows)} of a weight of {@code columns} columns read
     * from {@code values}, a block of rows at a time: their codes are put into {@code into} (row-major,
     * advancing its position) and their scales into {@code scales[firstRow...]}. So a tensor can go
     * from disk to engine memory in blocks without its codes ever being whole in Java.
     */
    static void quantizeRows(Values values, long firstRow, long rows, int columns, ByteBuffer into, float[] scales)
            throws CheckpointException {
        int rowsPerRead = Math.max(1, VALUES_PER_READ / Math.max(columns, 1));
        int blockValues = Math.toIntExact(Math.min(rowsPerRead, Math.max(rows, 1)) * columns);
        float[] block = new float[blockValues];
        byte[] codes = new byte[blockValues];
        for (long first = firstRow; first < firstRow + rows; first += rowsPerRead) {
            int count = (int) Math.min(rowsPerRead, firstRow + rows - first);
            values.read(first * columns, block, count * columns);
            for (int r = 0; r < count; r++) {
                scales[Math.toIntExact(first + r)] = quantizeRow(block, r * columns, columns, codes, r * columns);
            }
            into.put(codes, 0, count * columns);
        }
    }

    /** Codes of one row into {@code codes[at...]}; returns the row's scale (0 for a row of zeros). */
    private static float quantizeRow(float[] values, int from, int length, byte[] codes, int at) {
        float absmax = 0;
        for (int i = from; i < from + length; i++) {
            absmax = Math.max(absmax, Math.abs(values[i]));
        }
        if (!(absmax > 0)) {
            return 0f; // codes stay 0
        }
        float toCode = MAX_CODE / absmax;
        for (int i = 0; i < length; i++) {
            float code = (float) Math.rint(values[from + i] * toCode); // half to even, |code| <= 127
            codes[at + i] = (byte) Math.max(-MAX_CODE, Math.min(MAX_CODE, code));
        }
        return absmax / MAX_CODE;
    }
}
