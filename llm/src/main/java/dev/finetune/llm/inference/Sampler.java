package dev.finetune.llm.inference;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.SplittableRandom;

/**
 * Picks each row's next token from its logits on the engine, so only B token ids come back to Java,
 * never the [B, V] logits. Greedy is argmax; sampling follows transformers' warpers in their order
 * (temperature, then top-k, then top-p) and draws by inverse CDF:
 *
 * <ol>
 *   <li>scale the logits by 1 / temperature;
 *   <li>with top-k, keep the k largest (sorted, most probable first); else, with top-p, sort all
 *       tokens that way; else keep the vocabulary order;
 *   <li>softmax over the kept tokens; with top-p, keep the most probable ones while the mass before
 *       each is below topP (at least one), as TopPLogitsWarper;
 *   <li>with u from the row's own stream, take the first kept token whose cumulative probability
 *       exceeds u times the kept mass.
 * </ol>
 *
 * <p>Sequence r draws from {@code new SplittableRandom(seed + r)}, one uniform per token, so its
 * tokens do not depend on which other sequences share the batch or when they finish.
 */
final class Sampler {
    private final GenerationConfig config;
    private final SplittableRandom[] streams;

    /**
     * @param sequenceNumbers for each sequence of this batch, its number r in the whole request, which
     *     seeds its stream
     */
    Sampler(GenerationConfig config, long[] sequenceNumbers) {
        this.config = config;
        this.streams = new SplittableRandom[sequenceNumbers.length];
        for (int r = 0; r < sequenceNumbers.length; r++) {
            streams[r] = new SplittableRandom(config.seed() + sequenceNumbers[r]);
        }
    }

    /**
     * @param logits [B, V], row b belonging to sequence {@code sequences[b]}
     * @return the next token of each row
     */
    long[] next(NDArray logits, int[] sequences) {
        if (config.greedyDecoding()) {
            return logits.argMax(1).toLongArray(); // [B]
        }
        float[] uniforms = new float[sequences.length];
        for (int b = 0; b < sequences.length; b++) {
            uniforms[b] = (float) streams[sequences[b]].nextDouble();
        }
        NDArray u = logits.getManager().create(uniforms, new Shape(uniforms.length, 1)); // [B, 1]
        return sample(logits.toType(DataType.FLOAT32, false), u, config).toLongArray();
    }

    /**
     * The sampling rule above for given uniforms, on the engine.
     *
     * @param logits [B, V] fp32
     * @param uniforms [B, 1] in [0, 1)
     * @return the chosen token ids [B]
     */
    static NDArray sample(NDArray logits, NDArray uniforms, GenerationConfig config) {
        long vocabulary = logits.getShape().get(1);
        NDArray scaled = logits.div(config.temperature()); // [B, V]
        NDArray candidates = scaled; // [B, K], K = V unless top-k
        NDArray order = null; // [B, K] token id of each candidate, null = vocabulary order
        if (config.topK() > 0 && config.topK() < vocabulary) {
            NDList top = scaled.topK(config.topK(), 1, true, true);
            candidates = top.get(0);
            order = top.get(1);
        } else if (config.topP() < 1) {
            order = scaled.argSort(1, false);
            candidates = scaled.gather(order, 1);
        }
        NDArray probabilities = candidates.softmax(1); // [B, K]
        NDArray kept = null; // [B] number of candidates kept by top-p
        if (config.topP() < 1) {
            NDArray keep = probabilities.cumSum(1).sub(probabilities).lt(config.topP()); // mass before < topP
            probabilities = probabilities.mul(keep.toType(DataType.FLOAT32, false));
            kept = keep.sum(new int[] {1});
        }
        NDArray cumulative = probabilities.cumSum(1); // [B, K]
        NDArray target = uniforms.mul(cumulative.get(new NDIndex(":, -1:"))); // [B, 1]
        NDArray index = cumulative.lte(target).sum(new int[] {1}); // [B]: first index with cumulative > target
        // Rounding can put the target at the kept mass itself: fall back to the last kept candidate.
        index = kept == null ? index.minimum(cumulative.getShape().get(1) - 1) : index.minimum(kept.sub(1));
        if (order == null) {
            return index;
        }
        return order.gather(index.expandDims(1), 1).squeeze(1); // [B]
    }
}
