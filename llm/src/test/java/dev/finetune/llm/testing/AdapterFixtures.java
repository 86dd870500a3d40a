package dev.finetune.llm.testing;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.training.GradientCollector;
import dev.finetune.llm.checkpoint.ModelType;
import dev.finetune.llm.lora.Adapters;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.model.Parameter;
import dev.finetune.llm.tiny.TinyModelGenerator;
import dev.finetune.llm.tiny.TinyModels;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/** Tiny models, logits, a next-token loss and a plain SGD step, for the adapter tests. */
public final class AdapterFixtures {
    /** Two sequences of 7 tokens (vocabulary 128). */
    public static final long[][] IDS = {{5, 17, 99, 3, 44, 8, 120}, {1, 64, 2, 77, 31, 9, 15}};

    private AdapterFixtures() {}

    public static CausalLm tinyModel(ModelType type) {
        return TinyModelGenerator.create(
                TinyModels.config(type), 7, TinyModelGenerator.Initialization.TEST, Device.cpu());
    }

    /** Logits [B, T, V] of {@link #IDS}, flattened. */
    @SuppressWarnings("try")
    public static float[] logits(CausalLm model) {
        try (NDScope ignored = new NDScope()) {
            return model.forward(model.manager().create(IDS), null, null).toFloatArray();
        }
    }

    /** Mean negative log-likelihood of each next token of {@link #IDS}, in {@code manager}. */
    public static NDArray loss(CausalLm model, NDManager manager) {
        NDArray ids = manager.create(IDS); // [B, T]
        NDArray logits = model.forward(ids, null, null); // [B, T, V]
        NDArray logProbs = logits.get(new NDIndex(":, :-1, :")).logSoftmax(2); // [B, T-1, V]
        NDArray targets = ids.get(new NDIndex(":, 1:")).expandDims(2); // [B, T-1, 1]
        return logProbs.gather(targets, 2).mean().neg();
    }

    /**
     * One step of {@code w -= lr * dL/dw} on the adapters' trainable parameters, outside the
     * gradient collector (in-place updates of leaves are not recorded); gradients are zeroed after
     * the update since the engine accumulates them. Returns the loss before the step.
     */
    public static float sgdStep(Adapters adapters, float learningRate) {
        CausalLm model = adapters.model();
        try (NDManager step = model.manager().newSubManager()) {
            float lossValue;
            try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                NDArray loss = loss(model, step);
                collector.backward(loss);
                lossValue = loss.getFloat();
            }
            NDArray rate = step.create(learningRate);
            NDArray zero = step.create(0f);
            for (Parameter parameter : adapters.trainableParameters().values()) {
                NDArray w = parameter.array();
                NDArray gradient = w.getGradient();
                w.subi(gradient.mul(rate));
                gradient.muli(zero);
            }
            return lossValue;
        }
    }

    /**
     * Three {@link #sgdStep}s at learning rate 0.5 with dropout on, then evaluation mode: adapters
     * that visibly change the model (B non-zero), as a short training run leaves them.
     */
    public static void trainBriefly(Adapters adapters) {
        adapters.setTraining(true);
        for (int i = 0; i < 3; i++) {
            sgdStep(adapters, 0.5f);
        }
        adapters.setTraining(false);
    }

    /** {@code n} standard normal draws from {@code random}, as floats. */
    public static float[] gaussian(SplittableRandom random, int n) {
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) random.nextGaussian();
        }
        return values;
    }

    /** A copy of every parameter's values by path. */
    public static Map<String, float[]> snapshot(Map<String, Parameter> parameters) {
        Map<String, float[]> values = new LinkedHashMap<>();
        parameters.forEach(
                (name, parameter) -> values.put(name, parameter.array().toFloatArray()));
        return values;
    }

    /** The largest absolute difference between two arrays of equal length. */
    public static double maxAbsDiff(float[] a, float[] b) {
        if (a.length != b.length) {
            throw new IllegalArgumentException(a.length + " vs " + b.length + " values");
        }
        double max = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs(a[i] - b[i]));
        }
        return max;
    }

    /** The largest absolute value. */
    public static double maxAbs(float[] values) {
        double max = 0;
        for (float v : values) {
            max = Math.max(max, Math.abs(v));
        }
        return max;
    }
}
