package dev.finetune.llm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.finetune.llm.checkpoint.RopeConfig;

/**
 * Rotary position embedding in HuggingFace's rotate-half convention: the head dimension is split
 * into two halves that are rotated as pairs (i, i + D/2), not interleaved pairs as in the original
 * paper (HF permutes q/k weights at conversion so the results agree).
 *
 * <p>Dimension letters: B batch, T time, N heads (query or key/value), D head dim.
 */
public final class RotaryEmbedding extends Module {
    /** Inputs of at most this many values are rotated by a matrix product (see {@link Angles#rotateHalf}). */
    private static final long SMALL_INPUT = 1 << 14;

    private final int headDim;
    private final NDArray inverseFrequencies; // [D/2], a constant: no gradient
    private final NDArray rotateHalfMatrix; // [D, D], a constant: no gradient

    public RotaryEmbedding(RopeConfig rope, int headDim, NDManager manager) {
        this.headDim = headDim;
        this.inverseFrequencies = manager.create(inverseFrequencies(rope, headDim));
        this.rotateHalfMatrix = manager.create(rotateHalfMatrix(headDim), new Shape(headDim, headDim));
    }

    /**
     * {@code 1 / theta^(2i/D)}, then the configured scaling. Computed in float arithmetic in the
     * order HuggingFace's rope init functions use, so the values agree to the last bit or two.
     */
    public static float[] inverseFrequencies(RopeConfig rope, int headDim) {
        float[] inv = new float[headDim / 2];
        for (int i = 0; i < inv.length; i++) {
            float exponent = (float) (2 * i) / headDim;
            inv[i] = 1.0f / (float) Math.pow(rope.theta(), exponent);
        }
        switch (rope.type()) {
            case RopeConfig.LINEAR -> {
                for (int i = 0; i < inv.length; i++) {
                    inv[i] = inv[i] / (float) rope.factor();
                }
            }
            case RopeConfig.LLAMA3 -> llama3Scaling(rope, inv);
            default -> {}
        }
        return inv;
    }

    /**
     * Llama 3.1's frequency scaling: long wavelengths are slowed by {@code factor}, short ones kept,
     * and the band between is interpolated smoothly.
     */
    private static void llama3Scaling(RopeConfig rope, float[] inv) {
        float factor = (float) rope.factor();
        float lowFreqFactor = (float) rope.lowFreqFactor();
        float highFreqFactor = (float) rope.highFreqFactor();
        float oldContextLength = rope.originalMaxPositionEmbeddings();
        double lowFreqWavelength = oldContextLength / (double) lowFreqFactor;
        double highFreqWavelength = oldContextLength / (double) highFreqFactor;
        for (int i = 0; i < inv.length; i++) {
            float wavelength = (float) (2 * Math.PI) / inv[i];
            float scaled = wavelength > lowFreqWavelength ? inv[i] / factor : inv[i];
            boolean medium = !(wavelength < highFreqWavelength) && !(wavelength > lowFreqWavelength);
            if (medium) {
                float smooth = (oldContextLength / wavelength - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
                scaled = (1 - smooth) * scaled / factor + smooth * scaled;
            }
            inv[i] = scaled;
        }
    }

    /**
     * cos and sin of the rotation angles for positions [B, T], shaped [B, 1, T, D] to broadcast over
     * heads; computed once per forward pass and shared by every layer.
     */
    public Angles angles(NDArray positions) {
        NDArray freqs = positions
                .toType(DataType.FLOAT32, false)
                .expandDims(2) // [B, T, 1]
                .mul(inverseFrequencies); // [B, T, 1] * [D/2] -> [B, T, D/2]
        NDArray emb = freqs.concat(freqs, 2).expandDims(1); // [B, 1, T, D]
        return new Angles(emb.cos(), emb.sin(), headDim, rotateHalfMatrix);
    }

    /**
     * The signed permutation R [D, D] with {@code x R = rotateHalf(x)}: a product with it is exact
     * (one term of each sum is +-x, the others are zero), so either form gives the same bits.
     */
    private static float[] rotateHalfMatrix(int headDim) {
        int half = headDim / 2;
        float[] r = new float[headDim * headDim];
        for (int i = 0; i < half; i++) {
            r[(i + half) * headDim + i] = -1f; // out[i] = -x[i + D/2]
            r[i * headDim + i + half] = 1f; // out[i + D/2] = x[i]
        }
        return r;
    }

    /**
     * Rotation angles for one forward pass: cos and sin [B, 1, T, D].
     *
     * @param rotateHalf {@link #rotateHalfMatrix} [D, D]
     */
    public record Angles(NDArray cos, NDArray sin, int headDim, NDArray rotateHalf) {
        /**
         * Rotates x [B, N, T, D] (or, for one token, any [B, N, G, D] with T = 1 broadcast over G):
         * {@code x * cos + rotateHalf(x) * sin}.
         */
        public NDArray apply(NDArray x) {
            return x.mul(cos).add(rotateHalf(x).mul(sin));
        }

        /**
         * [x1, x2] -> [-x2, x1] over the halves of the last axis. For a few rows (a decoding step) one
         * product with the permutation matrix costs fewer engine calls than slicing and concatenating;
         * for long inputs slicing costs fewer operations. Both give identical values.
         */
        private NDArray rotateHalf(NDArray x) {
            if (x.getShape().size() <= SMALL_INPUT) {
                return x.matMul(rotateHalf); // [..., D] x [D, D]
            }
            int half = headDim / 2;
            NDArray x1 = x.get(new NDIndex("..., :{}", half)); // [B, N, T, D/2]
            NDArray x2 = x.get(new NDIndex("..., {}:", half)); // [B, N, T, D/2]
            return x2.neg().concat(x1, 3); // [B, N, T, D]
        }
    }
}
