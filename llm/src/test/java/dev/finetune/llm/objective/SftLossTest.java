package dev.finetune.llm.objective;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.training.GradientCollector;
import dev.finetune.llm.checkpoint.ModelType;
import dev.finetune.llm.inference.Scorer;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.model.Parameter;
import dev.finetune.llm.tiny.TinyModelGenerator;
import dev.finetune.llm.tiny.TinyModels;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The masked SFT loss: what it averages, and that its gradient is the derivative of its value. */
class SftLossTest {
    /** Two ragged sequences (vocabulary 128); the first 3 tokens of each are "prompt". */
    private static final List<TrainingSequence> SEQUENCES = List.of(
            sequence(new long[] {5, 17, 99, 3, 44, 8, 120, 31}, 3), sequence(new long[] {1, 64, 2, 77, 31, 9}, 3));

    private static TrainingSequence sequence(long[] ids, int promptLength) {
        boolean[] targets = new boolean[ids.length];
        java.util.Arrays.fill(targets, promptLength, ids.length, true);
        return TrainingSequence.of(ids, targets);
    }

    @Test
    void lossIsTheMeanNegativeLogLikelihoodOfTheTargetTokensOnly() {
        try (CausalLm model = model()) {
            SftBatch batch = SftBatch.of(SEQUENCES, 0, false);
            double expected = 0;
            int count = 0;
            List<long[]> ids = SEQUENCES.stream().map(TrainingSequence::ids).toList();
            List<float[]> logProbs = Scorer.tokenLogProbs(model, ids); // an independent path: no mask, no padding
            for (int b = 0; b < SEQUENCES.size(); b++) {
                for (int t = 1; t < SEQUENCES.get(b).length(); t++) {
                    if (SEQUENCES.get(b).targets()[t]) {
                        expected -= logProbs.get(b)[t - 1];
                        count++;
                    }
                }
            }
            assertThat(batch.targetCount()).isEqualTo(count).isEqualTo(5 + 3);

            assertThat(loss(model, batch)).isCloseTo(expected / count, within(1e-5));
        }
    }

    @Test
    void gradientMatchesCentralFiniteDifferences() {
        try (CausalLm model = model()) {
            Map<String, Parameter> parameters = model.namedParameters();
            parameters.values().forEach(p -> p.array().setRequiresGradient(true));
            SftBatch batch = SftBatch.of(SEQUENCES, 0, false);
            Map<String, float[]> gradients = gradients(model, batch);

            // In each of several tensors, the coordinate with the largest gradient, perturbed by +-h.
            float h = 1e-2f;
            List<String> names = List.of(
                    "model.embed_tokens.weight",
                    "model.layers.0.self_attn.q_proj.weight",
                    "model.layers.0.self_attn.k_proj.weight",
                    "model.layers.1.mlp.down_proj.weight",
                    "model.layers.1.input_layernorm.weight",
                    "model.norm.weight",
                    "lm_head.weight");
            List<double[]> compared = new ArrayList<>();
            for (String name : names) {
                float[] gradient = gradients.get(name);
                int index = argMaxAbs(gradient);
                NDArray w = parameters.get(name).array();
                float[] values = w.toFloatArray();
                float original = values[index];
                values[index] = original + h;
                w.set(values);
                double plus = loss(model, batch);
                values[index] = original - h;
                w.set(values);
                double minus = loss(model, batch);
                values[index] = original;
                w.set(values);
                compared.add(new double[] {gradient[index], (plus - minus) / (2 * h)});
            }
            for (int i = 0; i < names.size(); i++) {
                double analytic = compared.get(i)[0];
                double numeric = compared.get(i)[1];
                assertThat(Math.abs(analytic)).as(names.get(i)).isGreaterThan(1e-3);
                assertThat(numeric).as(names.get(i)).isCloseTo(analytic, within(0.005 * Math.abs(analytic) + 1e-4));
            }
        }
    }

    static CausalLm model() {
        return TinyModelGenerator.create(
                TinyModels.config(ModelType.LLAMA), 11, TinyModelGenerator.Initialization.TEST, Device.cpu());
    }

    @SuppressWarnings("try")
    static double loss(CausalLm model, SftBatch batch) {
        try (NDScope ignored = new NDScope()) {
            NDManager manager = model.manager();
            return SftLoss.windowMean(batch.logits(model, manager), batch, batch.targetCount(), manager)
                    .getFloat();
        }
    }

    @SuppressWarnings("try")
    private static Map<String, float[]> gradients(CausalLm model, SftBatch batch) {
        try (NDScope ignored = new NDScope()) {
            NDManager manager = model.manager();
            try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                collector.backward(
                        SftLoss.windowMean(batch.logits(model, manager), batch, batch.targetCount(), manager));
            }
            Map<String, float[]> gradients = new java.util.LinkedHashMap<>();
            model.namedParameters()
                    .forEach((name, p) ->
                            gradients.put(name, p.array().getGradient().toFloatArray()));
            return gradients;
        }
    }

    private static int argMaxAbs(float[] values) {
        int best = 0;
        for (int i = 1; i < values.length; i++) {
            if (Math.abs(values[i]) > Math.abs(values[best])) {
                best = i;
            }
        }
        return best;
    }
}
