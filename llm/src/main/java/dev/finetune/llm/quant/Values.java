package dev.finetune.llm.quant;

import dev.finetune.llm.checkpoint.CheckpointException;
import dev.finetune.llm.checkpoint.TensorSource;

/**
 * The values of a weight (row-major), read a range at a time: a Java array, or a tensor on disk, so
 * quantisation can stream a checkpoint's tensor without holding it whole in fp32.
 */
@FunctionalInterface
interface Values {
    /** Copies elements {@code [first, first + count)} into {@code into[0..count)}. */
    void read(long first, float[] into, int count) throws CheckpointException;

    static Values of(float[] array) {
        return (first, into, count) -> System.arraycopy(array, Math.toIntExact(first), into, 0, count);
    }

    static Values of(TensorSource tensors, String name) {
        return (first, into, count) -> tensors.readFloats(name, first, into, 0, count);
    }
}
