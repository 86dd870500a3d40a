package dev.finetune.llm.model;

import ai.djl.ndarray.NDArray;

/**
 * The token embedding [V, C]: looks token ids up and, when embeddings are tied, is also the LM head
 * that projects hidden states onto every vocabulary row. Stored as fp32 ({@link Embedding}) or, for
 * a frozen quantised base, as int8 rows (the {@code quant} package's {@code Int8Embedding}).
 *
 * <p>Dimension letters: B batch, T time, C channels, V vocabulary, n rows of hidden states.
 */
public interface TokenEmbedding {
    /** The rows of {@code ids} [B, T] (int64): [B, T, C], fp32. */
    NDArray forward(NDArray ids);

    /** Whether the table is trained, so a gradient must reach the looked-up rows. */
    boolean trains();

    /** The tied LM head: hidden [..., C] to logits [..., V] = hidden x table^T, fp32. */
    NDArray logits(NDArray hidden);

    /**
     * The tied LM head's {@code log softmax(hidden x table^T)[next]}: hidden [n, C] and next [n]
     * (int64) give [n], with the exact gradient with respect to {@code hidden} when recorded.
     */
    default NDArray logProbs(NDArray hidden, NDArray next) {
        return pick(logits(hidden), next);
    }

    /**
     * Logits {@link #logProbs} holds at once per row of hidden states: the whole vocabulary V, or,
     * for a head that works through the vocabulary a block at a time, the block's rows. A caller that
     * bounds the head's transient memory sizes its chunks of rows by this.
     */
    long logProbColumns();

    /** {@code log softmax(logits)[next]}: logits [n, V] and next [n] give [n]. */
    static NDArray pick(NDArray logits, NDArray next) {
        return logits.logSoftmax(1).gather(next.expandDims(1), 1).squeeze(1); // [n, V] -> [n]
    }
}
