package dev.finetune.llm.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.Device;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.testing.ParityFixture;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ScorerTest {

    /** Row b of a fixture without its padding. */
    private static long[] unpadded(ParityFixture fixture, int b) {
        return Arrays.stream(fixture.inputIds()[b]).filter(t -> t != 0).toArray();
    }

    private static int firstToken(ParityFixture fixture, int b) {
        int t = 0;
        while (fixture.attentionMask()[b][t] == 0) {
            t++;
        }
        return t;
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"llama", "mistral", "qwen3"})
    void tokenLogProbsAreTheLogSoftmaxOfTheReferenceLogits(String name) throws IOException {
        ParityFixture fixture = ParityFixture.load(name);
        List<long[]> sequences = new ArrayList<>();
        for (int b = 0; b < fixture.inputIds().length; b++) {
            sequences.add(unpadded(fixture, b));
        }
        try (CausalLm model = CausalLm.load(fixture.directory(), Device.cpu())) {
            List<float[]> scores = Scorer.tokenLogProbs(model, sequences);

            for (int b = 0; b < sequences.size(); b++) {
                long[] tokens = sequences.get(b);
                assertThat(scores.get(b)).hasSize(tokens.length - 1);
                int offset = firstToken(fixture, b); // where the row's tokens start in the fixture
                for (int t = 1; t < tokens.length; t++) {
                    double expected = referenceLogProb(fixture, b, offset + t - 1, (int) tokens[t]);
                    assertThat((double) scores.get(b)[t - 1]).isCloseTo(expected, within(1e-4));
                }
            }
        }
    }

    @Test
    void completionLogProbSumsTheCompletionTokensOnly() throws IOException {
        try (CausalLm model = CausalLm.load(ParityFixture.resource("/parity/qwen2"), Device.cpu())) {
            long[] prompt = {4, 8, 15};
            long[] completion = {16, 23, 42};
            float[] perToken = Scorer.tokenLogProbs(model, List.of(new long[] {4, 8, 15, 16, 23, 42}))
                    .get(0);

            double total = Scorer.completionLogProb(model, prompt, completion);

            assertThat(total).isCloseTo(perToken[2] + perToken[3] + perToken[4], within(1e-5));
            assertThat(total).isNegative();
        }
    }

    @Test
    void aSequenceScoresTheSameAloneAndInAPaddedBatch() throws IOException {
        try (CausalLm model = CausalLm.load(ParityFixture.resource("/parity/llama"), Device.cpu())) {
            long[] shortOne = {7, 3, 9};
            long[] longOne = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
            float[] alone = Scorer.tokenLogProbs(model, List.of(shortOne)).get(0);
            float[] batched =
                    Scorer.tokenLogProbs(model, List.of(longOne, shortOne)).get(1);

            assertThat(batched).containsExactly(alone, within(1e-5f));
        }
    }

    /** log_softmax of the fixture's logits at (b, t), computed here in double precision. */
    private static double referenceLogProb(ParityFixture fixture, int b, int t, int token) {
        double max = Double.NEGATIVE_INFINITY;
        for (int v = 0; v < fixture.vocabSize(); v++) {
            max = Math.max(max, fixture.logit(b, t, v));
        }
        double sum = 0;
        for (int v = 0; v < fixture.vocabSize(); v++) {
            sum += Math.exp(fixture.logit(b, t, v) - max);
        }
        return fixture.logit(b, t, token) - max - Math.log(sum);
    }
}
