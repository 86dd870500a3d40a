package dev.finetune.llm.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.finetune.llm.checkpoint.ModelConfig;
import dev.finetune.llm.checkpoint.ModelConfigJson;
import dev.finetune.llm.checkpoint.RopeConfig;
import dev.finetune.llm.testing.ParityFixture;
import java.io.IOException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RotaryEmbeddingTest {

    /** The llama fixture's llama3 scaling has kept, smoothed and slowed frequencies. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"llama", "llama2", "mistral", "qwen2", "qwen3"})
    void inverseFrequenciesMatchTheReference(String name) throws IOException {
        ParityFixture fixture = ParityFixture.load(name);
        ModelConfig config = ModelConfigJson.read(fixture.directory().resolve("config.json"));

        float[] actual = RotaryEmbedding.inverseFrequencies(config.rope(), config.headDim());

        assertThat(actual).hasSameSizeAs(fixture.invFreq());
        for (int i = 0; i < actual.length; i++) {
            assertThat(actual[i])
                    .as("inv_freq[%d]", i)
                    .isCloseTo(fixture.invFreq()[i], within(fixture.invFreq()[i] * 1e-6f));
        }
    }

    @Test
    void llama3ScalingKeepsHighFrequenciesAndSlowsLowOnesByTheFactor() {
        float[] plain = RotaryEmbedding.inverseFrequencies(RopeConfig.plain(500000), 128);
        float[] scaled = RotaryEmbedding.inverseFrequencies(RopeConfig.llama3(500000, 8, 1, 4, 8192), 128);

        assertThat(scaled[0]).isEqualTo(plain[0]); // wavelength 2 pi, far below 8192 / 4
        assertThat(scaled[63]).isCloseTo(plain[63] / 8, within(plain[63] * 1e-6f)); // far above 8192
        int smoothed = 0;
        for (int i = 0; i < plain.length; i++) {
            if (scaled[i] < plain[i] && scaled[i] > plain[i] / 8 * 1.0001f) {
                smoothed++;
            }
        }
        assertThat(smoothed).as("frequencies in the interpolated band").isPositive();
    }
}
