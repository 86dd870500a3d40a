package dev.finetune.llm.model;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import dev.finetune.llm.testing.ParityFixture;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Logits of every model type against an independent transcription of HuggingFace's modeling code. */
class ParityTest {
    static final float TOLERANCE = 1e-4f;

    @SuppressWarnings("try") // the scope is used for its closing
    @ParameterizedTest(name = "{0}")
    @ValueSource(
            strings = {
                "llama",
                "llama-bf16",
                "llama2",
                "llama2-bf16",
                "mistral",
                "mistral-bf16",
                "qwen2",
                "qwen2-bf16",
                "qwen3",
                "qwen3-bf16"
            })
    void paddedBatchLogitsMatchTheReferenceImplementation(String name) throws Exception {
        ParityFixture fixture = ParityFixture.load(name);
        float[] actual;
        try (CausalLm model = CausalLm.load(fixture.directory(), Device.cpu());
                NDScope ignored = new NDScope()) {
            NDArray ids = model.manager().create(fixture.inputIds());
            NDArray mask = model.manager().create(fixture.attentionMask());
            NDArray logits = model.forward(ids, mask, null);
            assertThat(logits.getShape().getShape())
                    .containsExactly(fixture.inputIds().length, fixture.inputIds()[0].length, fixture.vocabSize());
            actual = logits.toFloatArray();
        }
        float maxDiff = 0;
        int compared = 0;
        for (int b = 0; b < fixture.inputIds().length; b++) {
            for (int t = 0; t < fixture.inputIds()[b].length; t++) {
                if (fixture.attentionMask()[b][t] == 0) {
                    continue; // logits at padding positions are meaningless in any implementation
                }
                for (int v = 0; v < fixture.vocabSize(); v++) {
                    int i = (b * fixture.inputIds()[b].length + t) * fixture.vocabSize() + v;
                    maxDiff = Math.max(maxDiff, Math.abs(actual[i] - fixture.logit(b, t, v)));
                    compared++;
                }
            }
        }
        System.out.printf("parity %-13s max |logit diff| = %.3e over %d logits%n", name, maxDiff, compared);
        assertThat(compared).isGreaterThan(0);
        assertThat(maxDiff).isLessThanOrEqualTo(TOLERANCE);
    }
}
