package dev.finetune.llm.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import java.util.List;
import org.junit.jupiter.api.Test;

/** torch's GradScaler rules: backoff on overflow, growth after growth_interval clean steps in a row. */
class LossScalerTest {
    @Test
    void scaleDoublesAfterGrowthIntervalCleanStepsInARowAndHalvesOnOverflow() {
        try (NDManager manager = NDManager.newBaseManager();
                LossScaler scaler = new LossScaler(8, 3, manager)) {
            scaler.update(false);
            scaler.update(false);
            assertThat(scaler.scale()).isEqualTo(8);
            assertThat(scaler.growthTracker()).isEqualTo(2);
            scaler.update(false);
            assertThat(scaler.scale()).isEqualTo(16); // growth_factor 2 at the third clean step
            assertThat(scaler.growthTracker()).isZero();

            scaler.update(false);
            scaler.update(false);
            scaler.update(true); // an overflow restarts the count
            assertThat(scaler.scale()).isEqualTo(8); // backoff_factor 0.5
            assertThat(scaler.growthTracker()).isZero();
            scaler.update(false);
            scaler.update(false);
            assertThat(scaler.scale()).isEqualTo(8);
            scaler.update(false);
            assertThat(scaler.scale()).isEqualTo(16);
        }
    }

    @Test
    void defaultsAreTorchs() {
        try (NDManager manager = NDManager.newBaseManager();
                LossScaler scaler = new LossScaler(manager)) {
            assertThat(scaler.scale()).isEqualTo(65536.0);
            assertThat(scaler.growthInterval()).isEqualTo(2000);
            assertThat(LossScaler.GROWTH_FACTOR).isEqualTo(2.0);
            assertThat(LossScaler.BACKOFF_FACTOR).isEqualTo(0.5);
        }
    }

    /**
     * Forward values pass unchanged, bit for bit; backward multiplies the gradient by the scale (or
     * divides it), including after the scale has changed.
     */
    @Test
    void scalingTheGradientLeavesForwardValuesExactAndScalesBackward() {
        try (NDManager manager = NDManager.newBaseManager();
                LossScaler scaler = new LossScaler(1024, 2000, manager)) {
            float[] values = {0.1f, -3.7f, 1e-3f, 12345.678f};
            float[] weights = {1f, -2f, 0.5f, 3f};
            for (int round = 0; round < 2; round++) {
                NDArray x = manager.create(values);
                x.setRequiresGradient(true);
                NDArray w = manager.create(weights);
                float s = (float) scaler.scale();
                try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                    NDArray y = scaler.scaleGradient(x);
                    assertThat(y.toFloatArray()).containsExactly(values);
                    collector.backward(y.mul(w).sum());
                }
                assertThat(x.getGradient().toFloatArray())
                        .containsExactly(weights[0] * s, weights[1] * s, weights[2] * s, weights[3] * s);

                NDArray u = manager.create(values);
                u.setRequiresGradient(true);
                try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                    NDArray y = scaler.unscaleGradient(u);
                    assertThat(y.toFloatArray()).containsExactly(values);
                    collector.backward(y.mul(w).sum());
                }
                assertThat(u.getGradient().toFloatArray())
                        .containsExactly(weights[0] / s, weights[1] / s, weights[2] / s, weights[3] / s);
                scaler.update(true); // 512 in the second round
            }
        }
    }

    @Test
    void anInfOrNanGradientIsFound() {
        try (NDManager manager = NDManager.newBaseManager();
                LossScaler scaler = new LossScaler(manager)) {
            NDArray a = parameter(manager, new float[] {1, 2});
            NDArray b = parameter(manager, new float[] {3});
            AdamWTest.setGradient(a, new float[] {0.5f, -1e30f});
            AdamWTest.setGradient(b, new float[] {2f});
            assertThat(scaler.allFinite(List.of(a, b))).isTrue();

            NDArray nan = parameter(manager, new float[] {3});
            AdamWTest.setGradient(nan, new float[] {Float.NaN});
            assertThat(scaler.allFinite(List.of(a, nan))).isFalse();

            NDArray inf = parameter(manager, new float[] {1, 2});
            AdamWTest.setGradient(inf, new float[] {0.5f, Float.NEGATIVE_INFINITY});
            assertThat(scaler.allFinite(List.of(inf, b))).isFalse();
        }
    }

    @Test
    void aSavedStateIsRestoredAndNonsenseIsRefused() {
        try (NDManager manager = NDManager.newBaseManager();
                LossScaler scaler = new LossScaler(manager)) {
            scaler.restore(4096, 17);
            assertThat(scaler.scale()).isEqualTo(4096);
            assertThat(scaler.growthTracker()).isEqualTo(17);
            assertThatThrownBy(() -> scaler.restore(-1, 0)).hasMessageContaining("got -1.0");
            assertThatThrownBy(() -> scaler.restore(8, 2000)).hasMessageContaining("[0, 2000), got 2000");
        }
    }

    private static NDArray parameter(NDManager manager, float[] values) {
        NDArray array = manager.create(values);
        array.setRequiresGradient(true);
        return array;
    }
}
