package dev.finetune.llm.objective;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.training.GradientCollector;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.model.GradientMode;
import java.util.function.LongFunction;

/**
 * The LM head and its next-token log-probabilities over a few rows at a time, so that the logits
 * [tokens, V] (1.2 GB for a 151,936-token vocabulary at 2,048 tokens, before log-softmax copies it)
 * never exist whole: at most [{@code rows}, V] at once. Each chunk is computed, back-propagated and
 * freed before the next, so its logits are not kept for backward either.
 *
 * <p>A loss whose gradient with respect to the token log-probabilities is known before the forward
 * pass (SFT: {@code -mask / N}) needs one pass: {@link #backward} with those weights. One that needs
 * all log-probabilities first (DPO's sigmoid of sequence sums) scores them without recording ({@link
 * #logProbs}), back-propagates its loss to them, then calls {@link #backward} with that gradient: one
 * more LM-head forward pass. Both give the unchunked loss's gradients (same math, summed per chunk).
 *
 * <p>Dimension letters: B batch, T time, C channels, V vocabulary, N = B * (T - 1) predictions.
 */
public final class ChunkedLmHead {
    /**
     * What one chunk's fp32 logits [rows, V] may take by default: 64 MiB, 110 rows of Qwen's 151,936
     * tokens, 524 of a 32k vocabulary. Log-softmax's output and the gradient double it for a moment;
     * a chunk's matmul [rows, C] x [C, V] is still billions of FLOPs, so speed does not suffer.
     */
    public static final long DEFAULT_CHUNK_BYTES = 64L << 20;

    private final int rows; // 0: from DEFAULT_CHUNK_BYTES and the model's vocabulary

    public ChunkedLmHead(int rows) {
        if (rows < 1) {
            throw new IllegalArgumentException("chunk rows must be positive, got " + rows);
        }
        this.rows = rows;
    }

    private ChunkedLmHead() {
        this.rows = 0;
    }

    /** Chunks of {@link #DEFAULT_CHUNK_BYTES} of logits, whatever the vocabulary. */
    public static ChunkedLmHead defaults() {
        return new ChunkedLmHead();
    }

    /** Rows of a chunk whose whole logits [rows, V] are made (the entropy). */
    private int rows(CausalLm model) {
        return rows > 0 ? rows : defaultRows(model.config().vocabSize());
    }

    /**
     * Rows of a chunk scored by {@link CausalLm#logProbs}: as many as keep the logits it holds at once
     * within {@link #DEFAULT_CHUNK_BYTES}. A tied int8 head holds a block of 4,096 vocabulary rows at
     * a time, not [rows, V], so its chunks are 4,096 rows: qwen3's 512-token step dequantises the
     * table once per pass instead of once per 110 rows (a fifth of the time an int8 or nf4 step spent
     * outside matmuls, measured on a 4-layer qwen3-0.6b).
     */
    private int scoredRows(CausalLm model) {
        return rows > 0 ? rows : defaultRows(model.logProbColumns());
    }

    /**
     * Rows of a default chunk for logits of {@code columns} per row (the vocabulary, or a tied int8
     * head's block of it): at least 1.
     */
    public static int defaultRows(long columns) {
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, DEFAULT_CHUNK_BYTES / (Float.BYTES * columns)));
    }

    /**
     * {@code log p(x_{t+1} | x_<=t)} for every position [B, T-1], without gradient.
     *
     * @param hidden final-normed hidden states [B, T, C]
     * @param inputIds [B, T] int64
     */
    @SuppressWarnings("try")
    public NDArray logProbs(CausalLm model, NDArray hidden, NDArray inputIds) {
        try (GradientMode.Paused paused = GradientMode.pause()) {
            NDArray flat = predictionRows(hidden); // [N, C]
            NDArray next = nextTokens(inputIds); // [N]
            int rows = scoredRows(model);
            return perPrediction(hidden, flat, rows, start -> chunkLogProbs(model, flat, next, start, rows));
        }
    }

    /**
     * The entropy {@code -sum_v p(v | x_<=t) log p(v | x_<=t)} of every position's next-token distribution
     * [B, T-1], without gradient, a chunk of rows at a time (TRL's {@code entropy_from_logits}). Costs one
     * more LM-head forward pass of the rows: the whole distribution, not only the next token's entry.
     *
     * @param hidden final-normed hidden states [B, T, C]
     */
    @SuppressWarnings("try")
    public NDArray entropies(CausalLm model, NDArray hidden) {
        try (GradientMode.Paused paused = GradientMode.pause()) {
            NDArray flat = predictionRows(hidden); // [N, C]
            int rows = rows(model);
            return perPrediction(hidden, flat, rows, start -> {
                NDArray logp = model.logits(flat.get(new NDIndex("{}:{}", start, start + rows)))
                        .logSoftmax(-1); // [n, V]
                return logp.exp().mul(logp).sum(new int[] {-1}).neg(); // [n]
            });
        }
    }

    /**
     * One value per prediction [B, T-1], computed by {@code chunk} for rows [start, start + rows) of
     * {@code flat} [N, C] at a time; each chunk's temporaries die with its own scope.
     */
    @SuppressWarnings("try")
    private static NDArray perPrediction(NDArray hidden, NDArray flat, int rows, LongFunction<NDArray> chunk) {
        NDList chunks = new NDList();
        for (long start = 0; start < flat.getShape().get(0); start += rows) {
            NDArray values;
            try (NDScope ignored = new NDScope()) {
                values = chunk.apply(start); // [n]
                NDScope.unregister(values);
            }
            NDScope.register(values);
            chunks.add(values);
        }
        return NDArrays.concat(chunks)
                .reshape(hidden.getShape().get(0), hidden.getShape().get(1) - 1); // [B, T-1]
    }

    /**
     * Back-propagates {@code sum(weights * log p(x_{t+1} | x_<=t))} into {@code hidden} and through
     * its graph, one chunk of rows at a time, and returns that sum. Call inside {@code collector}.
     *
     * @param hidden final-normed hidden states [B, T, C], on the gradient path
     * @param inputIds [B, T] int64
     * @param weights [B, T-1], constants: d loss / d log-prob of each prediction
     */
    public double backward(
            CausalLm model, NDArray hidden, NDArray inputIds, NDArray weights, GradientCollector collector) {
        return backward(model, hidden, inputIds, weights, collector, null);
    }

    /**
     * As {@link #backward(CausalLm, NDArray, NDArray, NDArray, GradientCollector)}, with {@code also} (a
     * scalar whose graph shares {@code hidden}'s, or null) back-propagated in the same pass through that
     * graph: another head's loss on the same hidden states (PPO's value head), since the graph can be
     * traversed only once.
     */
    @SuppressWarnings("try")
    public double backward(
            CausalLm model,
            NDArray hidden,
            NDArray inputIds,
            NDArray weights,
            GradientCollector collector,
            NDArray also) {
        NDArray flat = predictionRows(hidden); // [N, C], recorded: leads back to hidden
        NDArray leaf = flat.stopGradient(); // [N, C], where the chunks' gradients add up
        leaf.setRequiresGradient(true);
        NDArray next = nextTokens(inputIds); // [N]
        NDArray flatWeights = weights.reshape(-1); // [N]
        double total = 0;
        int rows = scoredRows(model);
        for (long start = 0; start < leaf.getShape().get(0); start += rows) {
            try (NDScope ignored = new NDScope()) {
                NDArray weighted;
                try (NDScope chunk = new NDScope()) { // the logits' handle goes; the graph keeps log-softmax's output
                    weighted = chunkLogProbs(model, leaf, next, start, rows)
                            .mul(flatWeights.get(new NDIndex("{}:{}", start, start + rows)))
                            .sum(); // sum over the chunk of w * log p
                    NDScope.unregister(weighted);
                }
                NDScope.register(weighted);
                collector.backward(weighted);
                total += weighted.getFloat(); // a sync point per chunk
            }
        }
        NDArray intoHidden = flat.mul(leaf.getGradient()).sum();
        collector.backward(also == null ? intoHidden : intoHidden.add(also)); // on into hidden's graph
        return total;
    }

    /**
     * log p of rows [start, start + rows) of {@code flat}: [n]. The logits [n, V] die with the caller's
     * scope; a tied int8 head computes them a vocabulary block at a time ({@code Int8Embedding}).
     */
    private static NDArray chunkLogProbs(CausalLm model, NDArray flat, NDArray next, long start, int rows) {
        NDIndex range = new NDIndex("{}:{}", start, start + rows);
        return model.logProbs(flat.get(range), next.get(range)); // [n, C] -> [n] (via [n, V] logits)
    }

    /** The hidden states that predict a next token, flattened: [B, T-1, C] -> [N, C]. */
    private static NDArray predictionRows(NDArray hidden) {
        long channels = hidden.getShape().get(2);
        return hidden.get(new NDIndex(":, :-1, :")).reshape(-1, channels); // [N, C]
    }

    /** The token each row predicts: [B, T-1] -> [N]. */
    private static NDArray nextTokens(NDArray inputIds) {
        return inputIds.get(new NDIndex(":, 1:")).reshape(-1); // [N]
    }
}
