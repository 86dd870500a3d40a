package dev.finetune.llm.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.Device;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.llm.inference.Scorer;
import dev.finetune.llm.lora.Adapters;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.quant.BaseStorage;
import dev.finetune.llm.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ScoreCommandTest {
    @TempDir
    static Path root;

    /** config.json and model.safetensors only: the tokenizer files were deleted. */
    static Path weightsOnly;

    static Path withTokenizer;

    @BeforeAll
    static void createModels() throws IOException {
        withTokenizer = root.resolve("full");
        assertThat(CliRun.of("init-tiny", "--type", "llama", "--out", withTokenizer.toString(), "--seed", "5")
                        .exitCode())
                .isZero();
        weightsOnly = root.resolve("weights-only");
        assertThat(CliRun.of("init-tiny", "--type", "llama", "--out", weightsOnly.toString(), "--seed", "5")
                        .exitCode())
                .isZero();
        Files.delete(weightsOnly.resolve("tokenizer.json"));
        Files.delete(weightsOnly.resolve("tokenizer_config.json"));
    }

    @Test
    void idsAreScoredWithoutTokenizerFilesAndMatchTheScorer() throws IOException {
        long[] ids = {1, 5, 9, 300, 42, 42};

        CliRun run = CliRun.of("score", "--model", weightsOnly.toString(), "--ids", "1,5,9,300,42,42");

        assertThat(run.exitCode()).as(run.err()).isZero();
        try (Stream<Path> files = Files.list(weightsOnly)) {
            assertThat(files.map(p -> p.getFileName().toString()))
                    .containsExactlyInAnyOrder("config.json", "model.safetensors");
        }
        JsonNode json = new ObjectMapper().readTree(run.out());
        assertThat(longs(json.get("tokens"))).containsExactly(ids);
        JsonNode logProbs = json.get("logprobs");
        assertThat(logProbs.size()).isEqualTo(ids.length);
        assertThat(logProbs.get(0).isNull())
                .as("the first token has no context")
                .isTrue();
        float[] expected;
        try (CausalLm model = CausalLm.load(weightsOnly, Device.cpu())) {
            expected = Scorer.tokenLogProbs(model, List.of(ids)).get(0);
        }
        for (int i = 1; i < ids.length; i++) {
            assertThat(logProbs.get(i).isNumber()).isTrue();
            assertThat(logProbs.get(i).asDouble())
                    .as("logprobs[%d]", i)
                    .isCloseTo(expected[i - 1], within(1e-6))
                    .isLessThanOrEqualTo(0.0);
        }
    }

    @Test
    @SuppressWarnings("try")
    void adapterScoresAreTheScorersOnTheAdaptedModelAndDifferFromTheBase() throws IOException {
        long[] ids = {1, 5, 9, 300, 42, 42};
        Path adapter = root.resolve("adapter");
        float[] adapted;
        float[] base;
        Adapters adapters = RandomAdapter.save(weightsOnly, adapter, 3);
        try (CausalLm model = adapters.model()) {
            adapted = Scorer.tokenLogProbs(model, List.of(ids)).get(0);
            try (Adapters.Switch off = adapters.disabled()) {
                base = Scorer.tokenLogProbs(model, List.of(ids)).get(0);
            }
        }

        CliRun run = CliRun.of(
                "score",
                "--model",
                weightsOnly.toString(),
                "--adapter",
                adapter.toString(),
                "--ids",
                "1,5,9,300,42,42");

        assertThat(run.exitCode()).as(run.err()).isZero();
        JsonNode logProbs = new ObjectMapper().readTree(run.out()).get("logprobs");
        assertThat(logProbs.size()).isEqualTo(ids.length);
        assertThat(logProbs.get(0).isNull()).isTrue();
        double largestChange = 0;
        for (int i = 1; i < ids.length; i++) {
            assertThat(logProbs.get(i).asDouble()).as("logprobs[%d]", i).isCloseTo(adapted[i - 1], within(1e-6));
            largestChange = Math.max(largestChange, Math.abs(adapted[i - 1] - base[i - 1]));
        }
        assertThat(largestChange).as("the adapter changes the scores").isGreaterThan(0.01);
    }

    @Test
    void anInt8BaseScoresAsTheModelLoadedIntoInt8() throws IOException {
        long[] ids = {1, 5, 9, 300, 42, 42};
        float[] int8;
        float[] fp32;
        try (CausalLm model = CausalLm.load(weightsOnly, Device.cpu(), BaseStorage.INT8);
                CausalLm exact = CausalLm.load(weightsOnly, Device.cpu())) {
            int8 = Scorer.tokenLogProbs(model, List.of(ids)).get(0);
            fp32 = Scorer.tokenLogProbs(exact, List.of(ids)).get(0);
        }

        CliRun run = CliRun.of(
                "score", "--model", weightsOnly.toString(), "--base-dtype", "int8", "--ids", "1,5,9,300,42,42");

        assertThat(run.exitCode()).as(run.err()).isZero();
        JsonNode logProbs = new ObjectMapper().readTree(run.out()).get("logprobs");
        for (int i = 1; i < ids.length; i++) {
            assertThat(logProbs.get(i).asDouble()).as("logprobs[%d]", i).isCloseTo(int8[i - 1], within(1e-6));
        }
        assertThat(int8).isNotEqualTo(fp32);
    }

    @Test
    void anUnknownBaseDtypeIsRefusedWithTheChoices() {
        CliRun run = CliRun.of("score", "--model", weightsOnly.toString(), "--base-dtype", "int4", "--ids", "1,2");

        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("'int4' is not a base dtype (fp32, int8, nf4)");
    }

    @Test
    void missingAdapterDirectoryIsNamed() {
        Path missing = root.resolve("no-such-adapter");

        CliRun run =
                CliRun.of("score", "--model", weightsOnly.toString(), "--adapter", missing.toString(), "--ids", "1,2");

        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("--adapter: directory '" + missing + "' does not exist");
        assertThat(run.out()).isEmpty();
    }

    @Test
    void adapterDirectoryWithoutAdapterConfigIsNotAnAdapter() throws IOException {
        Path empty = Files.createDirectories(root.resolve("empty-adapter"));

        CliRun run =
                CliRun.of("score", "--model", weightsOnly.toString(), "--adapter", empty.toString(), "--ids", "1,2");

        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err())
                .contains("--adapter: '" + empty + "' is not a PEFT adapter directory: it has no adapter_config.json");
    }

    @Test
    void adapterForAWiderModelIsRejectedNamingTheFileAndTheTensor() throws IOException {
        Path wider = root.resolve("wider");
        assertThat(CliRun.of("init-tiny", "--type", "llama", "--out", wider.toString(), "--hidden", "128")
                        .exitCode())
                .isZero();
        Path adapter = root.resolve("wider-adapter");
        RandomAdapter.save(wider, adapter, 3).model().close();

        CliRun run =
                CliRun.of("score", "--model", weightsOnly.toString(), "--adapter", adapter.toString(), "--ids", "1,2");

        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err())
                .contains(adapter.resolve("adapter_model.safetensors") + ": 'base_model.model.model.layers.0.")
                .contains("does not match the model's");
        assertThat(run.out()).isEmpty();
    }

    @Test
    void textIsScoredAsTheTokenizersIds() throws IOException {
        CliRun run = CliRun.of("score", "--model", withTokenizer.toString(), "--text", "Hello world, hello you");

        assertThat(run.exitCode()).as(run.err()).isZero();
        JsonNode json = new ObjectMapper().readTree(run.out());
        int[] expectedIds;
        try (Tokenizer tokenizer = Tokenizer.load(withTokenizer)) {
            expectedIds = tokenizer.encode("Hello world, hello you", true);
        }
        assertThat(expectedIds.length).isGreaterThan(2);
        assertThat(longs(json.get("tokens")))
                .containsExactly(Arrays.stream(expectedIds).asLongStream().toArray());
        assertThat(json.get("logprobs").size()).isEqualTo(expectedIds.length);
    }

    @Test
    void textWithoutTokenizerFilesNamesTheMissingFile() {
        CliRun run = CliRun.of("score", "--model", weightsOnly.toString(), "--text", "Hello");

        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains(weightsOnly.resolve("tokenizer.json").toString());
        assertThat(run.out()).isEmpty();
    }

    @Test
    void malformedIdsAreRejectedQuotingTheValue() {
        CliRun run = CliRun.of("score", "--model", weightsOnly.toString(), "--ids", "1,x,3");

        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("--ids: '1,x,3' is not a comma-separated list of token ids");
    }

    @Test
    void idOutsideTheVocabularyIsRejectedNamingTheIdAndTheVocabularySize() throws IOException {
        int vocab = new ObjectMapper()
                .readTree(weightsOnly.resolve("config.json").toFile())
                .get("vocab_size")
                .asInt();

        CliRun run = CliRun.of("score", "--model", weightsOnly.toString(), "--ids", "3," + vocab);

        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err())
                .contains("--ids: token id " + vocab + " is outside")
                .contains("vocab_size " + vocab);
    }

    @Test
    void missingModelDirectoryIsNamed() {
        Path missing = root.resolve("no-such-model");

        CliRun run = CliRun.of("score", "--model", missing.toString(), "--ids", "1,2");

        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("--model: directory '" + missing + "' does not exist");
    }

    @Test
    void directoryWithoutConfigIsNotAModel() {
        CliRun run = CliRun.of("score", "--model", root.toString(), "--ids", "1,2");

        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("'" + root + "' is not a model directory: it has no config.json");
    }

    private static long[] longs(JsonNode array) {
        long[] values = new long[array.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = array.get(i).asLong();
        }
        return values;
    }
}
