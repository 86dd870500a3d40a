package dev.finetune.llm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import dev.finetune.llm.checkpoint.RopeConfig;

/**
 * Rotary position embedding in HuggingFace's rotate-half convention: the head dimension is split
 * into two halves that are rotated as pairs (i, i + D/2), not interleaved pairs as in the original
 * paper (HF permutes q/k weights at conversion so the results agree).
 *
 * <p>Dimension letters: B batch, T time, N heads (query or key/value), D head dim.
 */
public final class RotaryEmbedding extends Module {
    private final int headDim;
    private final NDArray inverseFrequencies; // [D/2], a constant: no gradient

    public RotaryEmbedding(RopeConfig rope, int headDim, NDManager manager) {
        this.headDim = headDim;
        this.inverseFrequencies = manager.create(inverseFrequencies(rope, headDim));
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

    /** cos and sin of the rotation angles for positions [B, T]; computed once per forward. */
    public Angles angles(NDArray positions) {
        NDArray freqs = positions
                .toType(DataType.FLOAT32, false)
                .expandDims(2) // [B, T, 1]
                .mul(inverseFrequencies); // [B, T, 1] * [D/2] -> [B, T, D/2]
        NDArray emb = freqs.concat(freqs, 2); // [B, T, D]
        return new Angles(emb.cos(), emb.sin(), headDim);
    }

    /** Rotation angles for one forward pass. */
    public record Angles(NDArray cos, NDArray sin, int headDim) {
        /** Rotates x [B, N, T, D]: {@code x * cos + rotateHalf(x) * sin}. */
        public NDArray apply(NDArray x) {
            NDArray c = cos.expandDims(1); // [B, 1, T, D]
            NDArray s = sin.expandDims(1); // [B, 1, T, D]
            return x.mul(c).add(rotateHalf(x).mul(s));
        }

        /** [x1, x2] -> [-x2, x1] over the halves of the last axis. */
        private NDArray rotateHalf(NDArray x) {
            int half = headDim / 2;
            NDArray x1 = x.get(new NDIndex("..., :{}", half)); // [B, N, T, D/2]
            NDArray x2 = x.get(new NDIndex("..., {}:", half)); // [B, N, T, D/2]
            return x2.neg().concat(x1, 3); // [B, N, T, D]
        }
    }
}
