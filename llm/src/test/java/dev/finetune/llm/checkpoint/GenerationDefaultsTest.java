package dev.finetune.llm.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.finetune.llm.inference.GenerationConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** generation_config.json read as transformers' GenerationConfig reads it. */
class GenerationDefaultsTest {
    @TempDir
    Path dir;

    @Test
    void qwen3sFileAsksForSamplingWithItsTemperatureTopKAndTopP() throws IOException {
        // The sampling fields of Qwen3-0.6B's generation_config.json.
        write("{\"bos_token_id\": 151643, \"do_sample\": true, \"eos_token_id\": [151645, 151643],"
                + " \"pad_token_id\": 151643, \"temperature\": 0.6, \"top_k\": 20, \"top_p\": 0.95,"
                + " \"transformers_version\": \"4.51.0\"}");

        GenerationDefaults defaults = GenerationDefaults.of(dir);
        assertThat(defaults).isEqualTo(new GenerationDefaults(true, 0.6, 20, 0.95, OptionalInt.empty()));
        GenerationConfig config = GenerationConfig.of(defaults, 128, 7);
        assertThat(config.greedyDecoding()).isFalse();
        assertThat(config.temperature()).isEqualTo(0.6);
        assertThat(config.topK()).isEqualTo(20);
        assertThat(config.topP()).isEqualTo(0.95);
        assertThat(config.seed()).isEqualTo(7);
        assertThat(config.maxNewTokens()).isEqualTo(128);
    }

    @Test
    void withoutDoSampleDecodingIsGreedyWhateverTheTemperature() throws IOException {
        write("{\"temperature\": 0.7, \"top_p\": 0.8, \"max_new_tokens\": 64}");

        GenerationConfig config = GenerationConfig.of(GenerationDefaults.of(dir), 128, 0);
        assertThat(config.greedyDecoding()).isTrue();
        assertThat(config.maxNewTokens()).isEqualTo(64);
    }

    @Test
    void absentOrNullFieldsTakeTransformersDefaults() throws IOException {
        assertThat(GenerationDefaults.of(dir)).as("no file").isEqualTo(GenerationDefaults.TRANSFORMERS);
        write("{\"do_sample\": true, \"temperature\": null}");
        assertThat(GenerationDefaults.of(dir))
                .isEqualTo(new GenerationDefaults(true, 1.0, 50, 1.0, OptionalInt.empty()));
    }

    @Test
    void badValuesAreRefusedNamingTheFileAndField() throws IOException {
        write("{\"do_sample\": true, \"temperature\": 0}");
        assertThatThrownBy(() -> GenerationDefaults.of(dir))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining("generation_config.json")
                .hasMessageContaining("temperature")
                .hasMessageContaining("must be positive when do_sample is true, got 0.0");
        write("{\"top_p\": 1.5}");
        assertThatThrownBy(() -> GenerationDefaults.of(dir))
                .hasMessageContaining("top_p")
                .hasMessageContaining("(0, 1]");
        write("{\"top_k\": -1}");
        assertThatThrownBy(() -> GenerationDefaults.of(dir)).hasMessageContaining("top_k");
        write("{\"do_sample\": \"yes\"}");
        assertThatThrownBy(() -> GenerationDefaults.of(dir))
                .hasMessageContaining("do_sample")
                .hasMessageContaining("must be true or false");
        write("[1, 2]");
        assertThatThrownBy(() -> GenerationDefaults.of(dir)).hasMessageContaining("is not a JSON object");
    }

    private void write(String json) throws IOException {
        Files.writeString(dir.resolve(GenerationDefaults.FILE_NAME), json);
    }
}
