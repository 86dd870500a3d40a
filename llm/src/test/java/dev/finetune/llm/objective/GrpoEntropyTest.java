package dev.finetune.llm.objective;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import dev.finetune.llm.checkpoint.ModelType;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.model.GradientMode;
import dev.finetune.llm.tiny.TinyModelGenerator;
import dev.finetune.llm.tiny.TinyModels;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * GRPO's {@code entropy} metric: the mean over completion tokens of the policy's next-token entropy, as
 * TRL's {@code entropy_from_logits} then masked mean, against the same computed here in double precision
 * from the whole logits [B, T, V] of a fixed tiny model.
 */
class GrpoEntropyTest {
    private static final List<long[]> PROMPTS = List.of(new long[] {1, 17, 99}, new long[] {1, 64});
    private static final List<long[]> COMPLETIONS = List.of(new long[] {3, 44, 8, 2}, new long[] {77, 9, 10, 11, 2});

    @Test
    @SuppressWarnings("try")
    void chunkedEntropyOverCompletionTokensEqualsTheEntropyOfTheLogits() {
        GrpoBatch batch = GrpoBatch.of(PROMPTS, COMPLETIONS, 0);
        try (CausalLm lm = TinyModelGenerator.create(
                        TinyModels.config(ModelType.LLAMA), 11, TinyModelGenerator.Initialization.TEST, Device.cpu());
                NDScope ignored = new NDScope();
                GradientMode.Paused paused = GradientMode.pause()) {
            NDManager manager = lm.manager();
            NDArray hidden = lm.body().forward(manager.create(batch.ids()), manager.create(batch.paddingMask()), null);
            float[] logits = lm.logits(hidden).toFloatArray(); // [B, T, V]
            int rows = batch.rows();
            int length = batch.ids()[0].length;
            int vocabulary = logits.length / (rows * length);
            double sum = 0;
            int count = 0;
            double largest = 0;
            for (int row = 0; row < rows; row++) {
                for (int t = 0; t < length - 1; t++) {
                    if (batch.completionMask()[row][t] == 0) {
                        continue;
                    }
                    int at = (row * length + t) * vocabulary;
                    double max = Double.NEGATIVE_INFINITY;
                    for (int v = 0; v < vocabulary; v++) {
                        max = Math.max(max, logits[at + v]);
                    }
                    double z = 0;
                    for (int v = 0; v < vocabulary; v++) {
                        z += Math.exp(logits[at + v] - max);
                    }
                    double entropy = 0;
                    for (int v = 0; v < vocabulary; v++) {
                        double logp = logits[at + v] - max - Math.log(z);
                        entropy -= Math.exp(logp) * logp;
                    }
                    sum += entropy;
                    count++;
                    largest = Math.max(largest, entropy);
                }
            }
            double expected = sum / count;
            assertThat(count).isEqualTo(9);

            float[] entropies = new ChunkedLmHead(5).entropies(lm, hidden).toFloatArray(); // [B * (T-1)]
            assertThat(entropies).hasSize(rows * (length - 1));
            assertThat(batch.completionMean(entropies)).isCloseTo(expected, within(1e-5 * expected));
            assertThat(largest)
                    .as("a non-trivial distribution")
                    .isGreaterThan(0.1)
                    .isLessThan(Math.log(vocabulary));
        }
    }
}
