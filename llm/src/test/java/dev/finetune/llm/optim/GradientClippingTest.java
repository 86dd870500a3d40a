package dev.finetune.llm.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Clipping by the norm of all gradients together, which keeps the update's direction. */
class GradientClippingTest {
    @Test
    void largeGradientsAreScaledToTheMaximumNormKeepingTheirDirection() {
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray a = parameter(manager, new float[] {3, 0});
            NDArray b = parameter(manager, new float[] {0, 0, 4});
            AdamWTest.setGradient(a, new float[] {3, 0});
            AdamWTest.setGradient(b, new float[] {0, 0, 4});

            double norm = GradientClipping.clip(List.of(a, b), 1.0);

            assertThat(norm).isCloseTo(5.0, within(1e-6)); // sqrt(3^2 + 4^2): both arrays together
            assertThat(a.getGradient().toFloatArray()).containsExactly(new float[] {0.6f, 0f}, within(1e-6f));
            assertThat(b.getGradient().toFloatArray()).containsExactly(new float[] {0f, 0f, 0.8f}, within(1e-6f));
            assertThat(GradientClipping.globalNorm(List.of(a, b))).isCloseTo(1.0, within(1e-5));
        }
    }

    @Test
    void gradientsBelowTheMaximumOrWithClippingOffAreUntouched() {
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray a = parameter(manager, new float[] {1, 1});
            AdamWTest.setGradient(a, new float[] {0.3f, -0.4f});
            assertThat(GradientClipping.clip(List.of(a), 1.0)).isCloseTo(0.5, within(1e-6));
            assertThat(a.getGradient().toFloatArray()).containsExactly(0.3f, -0.4f);

            AdamWTest.setGradient(a, new float[] {30, -40});
            assertThat(GradientClipping.clip(List.of(a), 0)).isCloseTo(50, within(1e-4));
            assertThat(a.getGradient().toFloatArray()).containsExactly(30f, -40f);
        }
    }

    private static NDArray parameter(NDManager manager, float[] values) {
        NDArray array = manager.create(values);
        array.setRequiresGradient(true);
        return array;
    }
}
