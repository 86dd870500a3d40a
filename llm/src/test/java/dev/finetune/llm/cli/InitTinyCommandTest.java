package dev.finetune.llm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Device;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.llm.checkpoint.ModelType;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class InitTinyCommandTest {
    private static final Pattern PARAMETERS = Pattern.compile("parameters\\s+([\\d,]+)");

    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(ModelType.class)
    void writesAModelWhoseVocabularyAndEosAreItsTokenizers(ModelType type) throws IOException {
        Path out = dir.resolve(type.hfName());

        CliRun run = CliRun.of("init-tiny", "--type", type.hfName(), "--out", out.toString());

        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out()).contains("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json");
        JsonNode config = json(out.resolve("config.json"));
        assertThat(config.get("model_type").asText()).isEqualTo(type.hfName());
        try (Tokenizer tokenizer = Tokenizer.load(out);
                CausalLm model = CausalLm.load(out, Device.cpu())) {
            assertThat(model.config().vocabSize()).isEqualTo(tokenizer.vocabSize());
            assertThat(model.config().eosTokenIds())
                    .containsExactly(
                            tokenizer.specialTokens().eos().orElseThrow().id());
            long parameters = model.namedParameters().values().stream()
                    .mapToLong(p -> p.shape().size())
                    .sum();
            assertThat(reportedParameters(run)).isEqualTo(parameters);
        }
    }

    @Test
    void parameterTargetIsMetWithinFivePercent() throws IOException {
        Path out = dir.resolve("two-million");

        CliRun run = CliRun.of("init-tiny", "--type", "llama", "--out", out.toString(), "--params", "2M");

        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(reportedParameters(run)).isBetween(1_900_000L, 2_100_000L);
        assertThat(json(out.resolve("config.json")).get("hidden_size").asInt())
                .as("wider than the default tiny model")
                .isGreaterThan(64);
    }

    @Test
    void hiddenSizeAndLayersSetTheDimensionsAndBf16IsStored() throws IOException {
        Path out = dir.resolve("sized");

        CliRun run = CliRun.of(
                "init-tiny",
                "--type",
                "mistral",
                "--out",
                out.toString(),
                "--hidden",
                "128",
                "--layers",
                "3",
                "--dtype",
                "bf16");

        assertThat(run.exitCode()).as(run.err()).isZero();
        JsonNode config = json(out.resolve("config.json"));
        assertThat(config.get("hidden_size").asInt()).isEqualTo(128);
        assertThat(config.get("num_hidden_layers").asInt()).isEqualTo(3);
        assertThat(config.get("torch_dtype").asText()).isEqualTo("bfloat16");
        // 2 bytes per parameter plus the safetensors header
        assertThat(Files.size(out.resolve("model.safetensors")))
                .isBetween(2 * reportedParameters(run), 2 * reportedParameters(run) + 16_384);
    }

    @Test
    void nonEmptyOutputDirectoryIsRefusedAndLeftAsItWas() throws IOException {
        Files.writeString(dir.resolve("notes.txt"), "mine");

        CliRun run = CliRun.of("init-tiny", "--type", "llama", "--out", dir.toString());

        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("--out: directory '" + dir + "' is not empty");
        try (var files = Files.list(dir)) {
            assertThat(files).containsExactly(dir.resolve("notes.txt"));
        }
    }

    @Test
    void unknownTypeAndBadSizesAreRejectedNamingTheValue() {
        String out = dir.resolve("x").toString();

        CliRun type = CliRun.of("init-tiny", "--type", "gpt2", "--out", out);
        CliRun hidden = CliRun.of("init-tiny", "--type", "llama", "--out", out, "--hidden", "100");
        CliRun params = CliRun.of("init-tiny", "--type", "llama", "--out", out, "--params", "20X");

        assertThat(type.exitCode()).isEqualTo(2);
        assertThat(type.err()).contains("'gpt2' is not a supported model type (llama, mistral, qwen2, qwen3)");
        assertThat(hidden.exitCode()).isEqualTo(2);
        assertThat(hidden.err()).contains("--hidden: must be a positive multiple of 16, got 100");
        assertThat(params.exitCode()).isEqualTo(2);
        assertThat(params.err()).contains("'20X' is not a parameter count");
        assertThat(dir.resolve("x")).doesNotExist();
    }

    private static long reportedParameters(CliRun run) {
        Matcher m = PARAMETERS.matcher(run.out());
        assertThat(m.find()).as(run.out()).isTrue();
        return Long.parseLong(m.group(1).replace(",", ""));
    }

    private static JsonNode json(Path file) throws IOException {
        return new ObjectMapper().readTree(file.toFile());
    }
}
