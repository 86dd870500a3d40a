package dev.finetune.llm.objective;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import dev.finetune.llm.checkpoint.ModelType;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.tiny.TinyModels;
import org.junit.jupiter.api.Test;

/**
 * Where a reward model reads each row: transformers' rightmost token that is not pad_token_id, and the
 * score is the head applied to the hidden state there and nowhere else.
 */
class LastTokensTest {
    private static final long PAD = 0;

    @Test
    void eachRightPaddedRowIsReadAtItsLastNonPaddingToken() {
        long[][] ids = {
            {5, 6, 7, 0, 0}, // right padding
            {5, 6, 7, 8, 9}, // none
            {5, 0, 7, 0, 0}, // a pad-valued token inside: still the rightmost non-pad token, as HF's argmax
            {0, 0, 0, 0, 0}, // padding only: position 0, as HF's argmax of zeros
        };
        assertThat(LastTokens.positions(ids, PAD)).containsExactly(2, 4, 2, 0);
        float[][] oneHot = LastTokens.oneHot(ids, PAD);
        assertThat(oneHot[0]).containsExactly(0, 0, 1, 0, 0);
        assertThat(oneHot[1]).containsExactly(0, 0, 0, 0, 1);
    }

    @Test
    @SuppressWarnings("try")
    void scoreIsTheHeadDotTheHiddenStateAtTheLastToken() {
        try (CausalLm lm = new CausalLm(TinyModels.config(ModelType.LLAMA), Device.cpu())) {
            lm.attachScoreHead(PAD, 7);
            int channels = lm.config().hiddenSize();
            float[] head = lm.namedParameters().get("score.weight").array().toFloatArray();
            assertThat(lm.config().padTokenId()).isEqualTo((int) PAD);
            double variance = 0;
            for (float w : head) {
                variance += w * w / head.length;
            }
            assertThat(Math.sqrt(variance)).as("normal(0, initializer_range)").isCloseTo(0.02, within(0.006));
            long[][] ids = {{5, 6, 0}, {5, 6, 7}};
            float[] hidden = new float[2 * 3 * channels];
            for (int i = 0; i < hidden.length; i++) {
                hidden[i] = (float) Math.sin(0.37 * i);
            }
            try (NDScope ignored = new NDScope()) {
                NDManager manager = lm.manager();
                NDArray h = manager.create(hidden, new Shape(2, 3, channels));
                float[] scores = lm.scores(h, manager.create(LastTokens.oneHot(ids, PAD)))
                        .toFloatArray();
                int[] last = {1, 2};
                for (int row = 0; row < 2; row++) {
                    double expected = 0;
                    for (int c = 0; c < channels; c++) {
                        expected += (double) head[c] * hidden[(row * 3 + last[row]) * channels + c];
                    }
                    assertThat((double) scores[row]).as("row " + row).isCloseTo(expected, within(1e-5));
                }
            }
        }
    }
}
