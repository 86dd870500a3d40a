package dev.finetune.llm.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;

/** Arrays built block of rows by block of rows hold the values given and leave the caller's shape alone. */
class EngineArraysTest {

    /**
     * Rows of 3 floats in blocks of at most 4 rows: 10 rows take three blocks, the last of 2 rows.
     * The random-model generator passes its parameters' own {@code Shape}; writing a block's row count
     * into the array DJL hands out once turned a [151936, 1024] parameter into [384, 1024].
     */
    @Test
    void aTensorOfSeveralBlocksHoldsEveryValueAndTheCallersShapeStaysAsItWas() throws CheckpointException {
        Shape shape = new Shape(10, 3);
        float[] values = new float[30];
        for (int i = 0; i < values.length; i++) {
            values[i] = i * 0.5f - 3;
        }
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray array =
                    EngineArrays.create(manager, shape, DataType.FLOAT32, 4 * 3 * Float.BYTES, (first, rows, into) -> {
                        into.asFloatBuffer().put(values, (int) first * 3, (int) rows * 3);
                        into.position(into.position() + (int) rows * 3 * Float.BYTES);
                    });

            assertThat(shape).isEqualTo(new Shape(10, 3));
            assertThat(array.getShape()).isEqualTo(new Shape(10, 3));
            assertThat(array.toFloatArray()).containsExactly(values);
        }
    }
}
