package dev.finetune.llm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.SparseFormat;

/** Token embedding in fp32: {@code weight} is [V, C]; ids [B, T] become vectors [B, T, C]. */
public final class Embedding extends Module implements TokenEmbedding {
    private final Parameter weight;

    public Embedding(long vocabSize, long channels) {
        weight = parameter("weight", vocabSize, channels);
    }

    public Parameter weight() {
        return weight;
    }

    @Override
    public NDArray forward(NDArray ids) {
        NDArray table = weight.array();
        return table.getNDArrayInternal()
                .embedding(ids, table, SparseFormat.DENSE)
                .singletonOrThrow(); // [B, T, C]
    }

    @Override
    public boolean trains() {
        return weight.array().hasGradient(); // a leaf: DJL answers truly
    }

    @Override
    public long logProbColumns() {
        return weight.shape().get(0); // V: the logits [n, V] are made whole
    }

    @Override
    public NDArray logits(NDArray hidden) {
        NDArray table = weight.array(); // [V, C]
        return hidden.getNDArrayInternal().linear(hidden, table, null).singletonOrThrow(); // [..., V]
    }
}
