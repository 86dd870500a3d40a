package dev.finetune.llm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.SparseFormat;

/** Token embedding: {@code weight} is [V, C]; ids [B, T] become vectors [B, T, C]. */
public final class Embedding extends Module {
    private final Parameter weight;

    public Embedding(long vocabSize, long channels) {
        weight = parameter("weight", vocabSize, channels);
    }

    public Parameter weight() {
        return weight;
    }

    public NDArray forward(NDArray ids) {
        NDArray table = weight.array();
        return table.getNDArrayInternal()
                .embedding(ids, table, SparseFormat.DENSE)
                .singletonOrThrow(); // [B, T, C]
    }
}
