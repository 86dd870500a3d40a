package dev.finetune.llm.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.training.GradientCollector;
import dev.finetune.llm.checkpoint.ModelType;
import dev.finetune.llm.tiny.TinyModelGenerator;
import dev.finetune.llm.tiny.TinyModels;
import org.junit.jupiter.api.Test;

/** The seams later work builds on: wrapping a linear (LoRA) and gradients through every block (training). */
class ModuleTreeTest {
    private static final long[][] IDS = {{5, 17, 99, 3, 44, 8}};

    private static CausalLm tinyModel() {
        return TinyModelGenerator.create(
                TinyModels.config(ModelType.QWEN3), 5, TinyModelGenerator.Initialization.TEST, Device.cpu());
    }

    /** Delegates to the linear it wraps, as a LoRA layer will, and counts its calls. */
    static final class CountingWrapper extends Module implements LinearLayer {
        final Linear base;
        int calls;

        CountingWrapper(Linear base) {
            this.base = child("base_layer", base);
        }

        @Override
        public NDArray forward(NDArray x) {
            calls++;
            return base.forward(x);
        }
    }

    @SuppressWarnings("try")
    @Test
    void aWrappedLinearCarriesTheForwardAndKeepsTheBaseWeightsUnderItsPath() {
        try (CausalLm model = tinyModel()) {
            float[] before;
            try (NDScope ignored = new NDScope()) {
                before = model.forward(model.manager().create(IDS), null, null).toFloatArray();
            }
            Module attention = model.body().layers().get(0).child("self_attn");
            CountingWrapper wrapper = new CountingWrapper((Linear) attention.child("q_proj"));
            attention.replaceChild("q_proj", wrapper);

            float[] after;
            try (NDScope ignored = new NDScope()) {
                after = model.forward(model.manager().create(IDS), null, null).toFloatArray();
            }

            assertThat(wrapper.calls).isEqualTo(1);
            assertThat(after).containsExactly(before);
            assertThat(model.namedParameters())
                    .containsKey("model.layers.0.self_attn.q_proj.base_layer.weight")
                    .doesNotContainKey("model.layers.0.self_attn.q_proj.weight");
        }
    }

    @Test
    void aLinearCanOnlyBeReplacedByALinearLayer() {
        try (CausalLm model = tinyModel()) {
            Module attention = model.body().layers().get(1).child("self_attn");
            assertThatThrownBy(() -> attention.replaceChild("k_proj", new Module() {}))
                    .hasMessageContaining("'k_proj' is a linear layer");
        }
    }

    /**
     * The gradient of a cross-entropy loss with respect to a first-layer weight, which flows back
     * through the head, every norm, the MLPs, attention, rotary embedding and qwen3's per-head
     * norms, agrees with a finite difference.
     */
    @Test
    void gradientsReachTheFirstLayerAndAgreeWithFiniteDifferences() {
        try (CausalLm model = tinyModel()) {
            Parameter weight = model.namedParameters().get("model.layers.0.self_attn.q_proj.weight");
            float[] gradient;
            try (NDManager step = model.manager().newSubManager();
                    GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                weight.array().setRequiresGradient(true);
                NDArray loss = loss(model, step);
                collector.backward(loss);
                gradient = weight.array().getGradient().toFloatArray();
            }
            int largest = 0;
            for (int i = 0; i < gradient.length; i++) {
                largest = Math.abs(gradient[i]) > Math.abs(gradient[largest]) ? i : largest;
            }
            assertThat(Math.abs(gradient[largest])).isGreaterThan(1e-3f);

            float[] values = weight.array().toFloatArray();
            float h = 1e-2f;
            double plus = lossWith(model, weight, values, largest, values[largest] + h);
            double minus = lossWith(model, weight, values, largest, values[largest] - h);
            double numeric = (plus - minus) / (2 * h);
            assertThat(numeric).isCloseTo(gradient[largest], within(Math.abs(gradient[largest]) * 0.02));
        }
    }

    /** Mean negative log-likelihood of each next token. */
    private static NDArray loss(CausalLm model, NDManager manager) {
        NDArray ids = manager.create(IDS); // [1, T]
        NDArray logits = model.forward(ids, null, null); // [1, T, V]
        NDArray logProbs = logits.get(new NDIndex(":, :-1, :")).logSoftmax(2); // [1, T-1, V]
        NDArray targets = ids.get(new NDIndex(":, 1:")).expandDims(2); // [1, T-1, 1]
        return logProbs.gather(targets, 2).mean().neg();
    }

    private static double lossWith(CausalLm model, Parameter weight, float[] values, int index, float value) {
        float[] changed = values.clone();
        changed[index] = value;
        weight.set(model.manager().create(changed, weight.shape()));
        try (NDManager step = model.manager().newSubManager()) {
            return loss(model, step).getFloat();
        }
    }
}
