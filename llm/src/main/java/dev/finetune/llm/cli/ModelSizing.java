package dev.finetune.llm.cli;

import ai.djl.Device;
import dev.finetune.llm.checkpoint.ModelConfig;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.model.Parameter;

/**
 * Dimensions for {@code init-tiny}: a family's tiny config resized by a hidden size, a layer
 * count, or a target parameter count (embeddings included).
 *
 * <p>Shape rules for a hidden size C (a multiple of 16): head dim 64 from C = 256 when C allows it,
 * else 32 from C = 128, else 16; as many query heads as fit; half as many key/value heads when
 * that is whole (grouped-query attention, as Llama 3 and Qwen), else as many; MLP width 8C/3
 * rounded up to a multiple of 32 (the SwiGLU width of LLaMA's paper).
 */
final class ModelSizing {
    /** The hidden sizes searched for a parameter target: multiples of 64, so heads of 64 fit from 256 up. */
    private static final int HIDDEN_STEP = 64;

    private static final int MAX_HIDDEN = 8192;
    private static final int MAX_LAYERS = 256;
    /** Among sizes within 5% of the target, the one closest to this width per layer (GPT-2 small: 768/12). */
    private static final double PREFERRED_WIDTH_PER_LAYER = 64;

    private static final double CLOSE_ENOUGH = 0.05;

    private ModelSizing() {}

    static ModelConfig withHidden(ModelConfig base, int hidden) {
        int headDim = hidden >= 256 && hidden % 64 == 0 ? 64 : hidden >= 128 && hidden % 32 == 0 ? 32 : 16;
        int heads = hidden / headDim;
        return base.toBuilder()
                .hiddenSize(hidden)
                .headDim(headDim)
                .numAttentionHeads(heads)
                .numKeyValueHeads(heads % 2 == 0 ? heads / 2 : heads)
                .intermediateSize((8 * hidden / 3 + 31) / 32 * 32)
                .build();
    }

    static ModelConfig withLayers(ModelConfig base, int layers) {
        return base.toBuilder().numHiddenLayers(layers).build();
    }

    /** The layer count that brings a model of this width closest to {@code target} parameters (at least 1). */
    static ModelConfig layersFor(ModelConfig shaped, long target) {
        return Depth.of(shaped).closestTo(target);
    }

    /** The hidden size that brings a model of this depth closest to {@code target} parameters. */
    static ModelConfig hiddenFor(ModelConfig base, long target) {
        ModelConfig best = null;
        double bestError = Double.MAX_VALUE;
        for (int hidden = HIDDEN_STEP; hidden <= MAX_HIDDEN; hidden += HIDDEN_STEP) {
            ModelConfig candidate = withHidden(base, hidden);
            double error = relativeError(Depth.of(candidate).count(candidate.numHiddenLayers()), target);
            if (error < bestError) {
                best = candidate;
                bestError = error;
            }
        }
        return best;
    }

    /**
     * Width and depth for {@code target} parameters: for each width, the best depth; of those within
     * 5% of the target, the one whose width per layer is closest to 64; if none is, the closest.
     */
    static ModelConfig forParameters(ModelConfig base, long target) {
        ModelConfig best = null;
        double bestScore = Double.MAX_VALUE;
        for (int hidden = HIDDEN_STEP; hidden <= MAX_HIDDEN; hidden += HIDDEN_STEP) {
            Depth depth = Depth.of(withHidden(base, hidden));
            ModelConfig candidate = depth.closestTo(target);
            double error = relativeError(depth.count(candidate.numHiddenLayers()), target);
            double aspect = Math.abs(Math.log(
                    (double) candidate.hiddenSize() / candidate.numHiddenLayers() / PREFERRED_WIDTH_PER_LAYER));
            double score = error <= CLOSE_ENOUGH ? aspect : 1000 + error; // any close size beats every far one
            if (score < bestScore) {
                best = candidate;
                bestScore = score;
            }
        }
        return best;
    }

    /**
     * Parameter count as a function of depth for one width: layers are identical, so two counted
     * models (1 and 2 layers) give every depth's count without building deep models.
     */
    private record Depth(ModelConfig shaped, long oneLayer, long perLayer) {
        static Depth of(ModelConfig shaped) {
            long one = parameterCount(withLayers(shaped, 1));
            return new Depth(shaped, one, parameterCount(withLayers(shaped, 2)) - one);
        }

        long count(int layers) {
            return oneLayer + (layers - 1) * perLayer;
        }

        ModelConfig closestTo(long target) {
            long layers = Math.round((double) (target - oneLayer) / perLayer) + 1;
            return withLayers(shaped, (int) Math.max(1, Math.min(MAX_LAYERS, layers)));
        }
    }

    /** Parameters of a model with this config, counted on the model itself (no weights are allocated). */
    static long parameterCount(ModelConfig config) {
        try (CausalLm model = new CausalLm(config, Device.cpu())) {
            return model.namedParameters().values().stream()
                    .map(Parameter::shape)
                    .mapToLong(shape -> shape.size())
                    .sum();
        }
    }

    private static double relativeError(long count, long target) {
        return Math.abs(count - target) / (double) target;
    }
}
