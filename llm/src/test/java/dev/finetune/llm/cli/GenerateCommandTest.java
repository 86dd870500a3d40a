package dev.finetune.llm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Device;
import dev.finetune.llm.inference.GenerationConfig;
import dev.finetune.llm.inference.Generator;
import dev.finetune.llm.lora.Adapters;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.tokenizer.ChatMessage;
import dev.finetune.llm.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CLI's streamed generation gives exactly what {@link Generator} gives for the same input and settings. */
class GenerateCommandTest {
    private static final Pattern TOKEN_COUNT = Pattern.compile("; (\\d+) tokens in \\d+ ms");

    @TempDir
    static Path root;

    static Path modelDir;
    static CausalLm model;
    static Tokenizer tokenizer;

    @BeforeAll
    static void createModel() throws IOException {
        modelDir = root.resolve("qwen2");
        assertThat(CliRun.of("init-tiny", "--type", "qwen2", "--out", modelDir.toString(), "--seed", "11")
                        .exitCode())
                .isZero();
        model = CausalLm.load(modelDir, Device.cpu());
        tokenizer = Tokenizer.load(modelDir);
    }

    @AfterAll
    static void close() {
        model.close();
        tokenizer.close();
    }

    @Test
    void greedyPromptContinuationIsGeneratorsOutputDecoded() {
        CliRun run = generate("--prompt", "Hello world", "--max-new-tokens", "24");

        long[] expected = reference(tokenizer.encode("Hello world", true), GenerationConfig.greedy(24));
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(decode(expected)).as("a visible continuation").isNotBlank();
        assertThat(run.out()).isEqualTo(decode(expected) + System.lineSeparator());
        assertThat(tokenCount(run)).isEqualTo(expected.length);
        assertThat(run.err()).contains("time to first token");
    }

    @Test
    void textReachesStdoutPieceByPieceAsTokensAreGenerated() {
        CliRun run = generate("--prompt", "Hello world", "--max-new-tokens", "24");

        List<String> pieces = run.outChunks();
        assertThat(pieces.size()).as("flushed pieces: %s", pieces).isGreaterThan(5);
        assertThat(String.join("", pieces)).isEqualTo(run.out());
    }

    @Test
    void samplingGivesGeneratorsTokensForTheSameSeed() {
        CliRun run = generate(
                "--prompt",
                "the cat",
                "--max-new-tokens",
                "20",
                "--temperature",
                "1.3",
                "--top-p",
                "0.9",
                "--seed",
                "17");
        CliRun otherSeed = generate(
                "--prompt",
                "the cat",
                "--max-new-tokens",
                "20",
                "--temperature",
                "1.3",
                "--top-p",
                "0.9",
                "--seed",
                "18");

        // No generation_config.json: transformers' top_k default (50) applies, as in model.generate().
        long[] expected = reference(
                tokenizer.encode("the cat", true),
                GenerationConfig.greedy(20).withSampling(1.3, 0.9, 17).withTopK(50));
        assertThat(run.out()).isEqualTo(decode(expected) + System.lineSeparator());
        assertThat(otherSeed.out()).as("another seed, another text").isNotEqualTo(run.out());
    }

    @Test
    void withoutSamplingFlagsTheModelsGenerationConfigDecidesAndFlagsOverrideIt() throws IOException {
        Path sampling = root.resolve("sampling");
        copyDirectory(modelDir, sampling);
        Files.writeString(
                sampling.resolve("generation_config.json"),
                "{\"do_sample\": true, \"temperature\": 0.7, \"top_k\": 5, \"top_p\": 0.8, \"max_new_tokens\": 9}");
        CliRun byFile = CliRun.of("generate", "--model", sampling.toString(), "--prompt", "the cat", "--seed", "3");

        long[] expected = reference(
                tokenizer.encode("the cat", true),
                GenerationConfig.greedy(9).withSampling(0.7, 0.8, 3).withTopK(5));
        assertThat(byFile.exitCode()).as(byFile.err()).isZero();
        assertThat(byFile.out()).isEqualTo(decode(expected) + System.lineSeparator());
        assertThat(CliRun.of(
                                "generate",
                                "--model",
                                sampling.toString(),
                                "--prompt",
                                "the cat",
                                "--temperature",
                                "0",
                                "--max-new-tokens",
                                "9")
                        .out())
                .as("--temperature 0 is greedy whatever the file says")
                .isEqualTo(decode(reference(tokenizer.encode("the cat", true), GenerationConfig.greedy(9)))
                        + System.lineSeparator());

        Files.writeString(sampling.resolve("generation_config.json"), "{\"do_sample\": true, \"temperature\": 0}");
        CliRun invalid = CliRun.of("generate", "--model", sampling.toString(), "--prompt", "the cat");
        assertThat(invalid.exitCode()).isNotZero();
        assertThat(invalid.err())
                .contains("generation_config.json")
                .contains("temperature")
                .contains("must be positive when do_sample is true, got 0.0");
    }

    @Test
    void severalPromptsWithSeveralSamplesEachAreOneBatchPrintedInOrder() {
        CliRun run = generate(
                "--prompt",
                "Hello world",
                "--prompt",
                "the cat",
                "-n",
                "2",
                "--temperature",
                "1.1",
                "--top-k",
                "40",
                "--seed",
                "5",
                "--max-new-tokens",
                "12");

        GenerationConfig settings =
                GenerationConfig.greedy(12).withSampling(1.1, 1, 5).withTopK(40).withNumReturnSequences(2);
        List<long[]> expected =
                references(List.of(tokenizer.encode("Hello world", true), tokenizer.encode("the cat", true)), settings);
        StringBuilder out = new StringBuilder();
        for (int r = 0; r < 4; r++) {
            out.append("--- prompt ")
                    .append(r / 2 + 1)
                    .append(" of 2, sample ")
                    .append(r % 2 + 1)
                    .append(" of 2 ---")
                    .append(System.lineSeparator())
                    .append(decode(expected.get(r)))
                    .append(System.lineSeparator());
        }
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out()).isEqualTo(out.toString());
        assertThat(run.err()).contains("2 prompts); 4 sequences, ");
        assertThat(expected.get(0)).as("two samples of one prompt").isNotEqualTo(expected.get(1));
    }

    @Test
    void withoutKvCacheTheOutputIsTheSame() {
        CliRun cached = generate("--prompt", "Hello world", "--max-new-tokens", "16");
        CliRun uncached = generate("--prompt", "Hello world", "--max-new-tokens", "16", "--no-cache");

        assertThat(uncached.exitCode()).isZero();
        assertThat(uncached.out()).isNotBlank().isEqualTo(cached.out());
    }

    @Test
    void promptLookupGivesTheSameOutput() {
        String repeating = "the cat sat on the mat and the cat sat on the mat and the cat";
        CliRun plain = generate("--prompt", repeating, "--max-new-tokens", "24");
        CliRun lookedUp = generate("--prompt", repeating, "--max-new-tokens", "24", "--prompt-lookup", "8");
        CliRun batchedPlain = generate("--prompt", repeating, "--prompt", "Hello", "--max-new-tokens", "24");
        CliRun batched =
                generate("--prompt", repeating, "--prompt", "Hello", "--max-new-tokens", "24", "--prompt-lookup", "8");

        assertThat(lookedUp.exitCode()).as(lookedUp.err()).isZero();
        assertThat(lookedUp.out()).isNotBlank().isEqualTo(plain.out());
        assertThat(lookedUp.err()).containsPattern("; prompt lookup kept [1-9][0-9]* of [1-9][0-9]* draft tokens over");
        assertThat(plain.err()).doesNotContain("prompt lookup");
        assertThat(batched.exitCode()).as(batched.err()).isZero();
        assertThat(batched.out()).isEqualTo(batchedPlain.out());
    }

    @Test
    void promptLookupWithSamplingIsRefusedNamingTheFlag() {
        assertThat(generate("--prompt", "Hi", "--prompt-lookup", "4", "--temperature", "0.8")
                        .err())
                .contains("--prompt-lookup: needs greedy decoding, but the temperature is 0.8; add --temperature 0");
        assertThat(generate("--prompt", "Hi", "--prompt-lookup", "65").err())
                .contains("--prompt-lookup: must be in [0, 64], got 65");
    }

    @Test
    void chatIsOneUserTurnRenderedWithTheTemplateAndGenerationPrompt() {
        CliRun run = generate("--chat", "Hello", "--max-new-tokens", "16");

        int[] prompt = tokenizer.encodeChat(List.of(ChatMessage.user("Hello")), true, Map.of());
        assertThat(tokenizer.decode(prompt, false)).endsWith("<|im_start|>assistant\n");
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out())
                .isEqualTo(decode(reference(prompt, GenerationConfig.greedy(16))) + System.lineSeparator());
    }

    @Test
    void messagesFileIsRenderedWithTheTemplate() throws IOException {
        Path file = root.resolve("chat.json");
        Files.writeString(
                file,
                "[{\"role\": \"system\", \"content\": \"Be brief.\"}, {\"role\": \"user\", \"content\": \"Hi\"}]");

        CliRun run = generate("--messages", file.toString(), "--max-new-tokens", "16");

        int[] prompt =
                tokenizer.encodeChat(List.of(ChatMessage.system("Be brief."), ChatMessage.user("Hi")), true, Map.of());
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out())
                .isEqualTo(decode(reference(prompt, GenerationConfig.greedy(16))) + System.lineSeparator());
    }

    @Test
    void generationStopsAtTheTokenizersEosToken() throws IOException {
        long[] free = reference(tokenizer.encode("Hello world", true), GenerationConfig.greedy(24));
        long eos = free[5]; // declared the end of sequence below: generation must stop at its first occurrence
        int firstEos = 0;
        while (free[firstEos] != eos) {
            firstEos++;
        }
        Path stopping = root.resolve("stopping");
        copyDirectory(modelDir, stopping);
        Files.writeString(stopping.resolve("generation_config.json"), "{\"eos_token_id\": [" + eos + "]}");

        CliRun run = CliRun.of(
                "generate", "--model", stopping.toString(), "--prompt", "Hello world", "--max-new-tokens", "24");

        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(tokenCount(run)).isEqualTo(firstEos + 1).isLessThan(24);
        assertThat(run.out()).isEqualTo(decode(Arrays.copyOf(free, firstEos + 1)) + System.lineSeparator());
    }

    @Test
    @SuppressWarnings("try")
    void adapterContinuationIsGeneratorsOutputOnTheAdaptedModel() throws IOException {
        Path adapter = root.resolve("adapter");
        int[] prompt = tokenizer.encode("Hello world", true);
        long[] adapted;
        long[] base;
        Adapters adapters = RandomAdapter.save(modelDir, adapter, 5);
        try (CausalLm adaptedModel = adapters.model()) {
            adapted = reference(adaptedModel, prompt, GenerationConfig.greedy(24));
            try (Adapters.Switch off = adapters.disabled()) {
                base = reference(adaptedModel, prompt, GenerationConfig.greedy(24));
            }
        }

        CliRun run = generate("--prompt", "Hello world", "--max-new-tokens", "24", "--adapter", adapter.toString());

        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out()).isEqualTo(decode(adapted) + System.lineSeparator());
        assertThat(tokenCount(run)).isEqualTo(adapted.length);
        assertThat(adapted).as("the adapter changes the continuation").isNotEqualTo(base);
    }

    @Test
    void adapterDirectoryWithoutAdapterConfigIsRejectedNamingIt() throws IOException {
        Path notAnAdapter = Files.createDirectories(root.resolve("not-an-adapter"));

        CliRun run = generate("--prompt", "Hi", "--adapter", notAnAdapter.toString());

        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err())
                .contains("--adapter: '" + notAnAdapter
                        + "' is not a PEFT adapter directory: it has no adapter_config.json");
        assertThat(run.out()).isEmpty();
    }

    @Test
    void malformedMessageIsReportedWithTheFileAndItsIndex() throws IOException {
        Path file = root.resolve("bad-chat.json");
        Files.writeString(file, "[{\"role\": \"user\", \"content\": \"Hi\"}, {\"content\": \"no role\"}]");

        CliRun run = generate("--messages", file.toString());

        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains(file + ": messages[1]: \"role\" must be a string");
    }

    @Test
    void invalidSamplingSettingsNameTheFlagAndValue() {
        assertThat(generate("--prompt", "Hi", "--temperature", "-1").err())
                .contains("--temperature: must be 0 (greedy) or positive, got -1.0");
        assertThat(generate("--prompt", "Hi", "--top-p", "1.5").err()).contains("--top-p: must be in (0, 1], got 1.5");
        assertThat(generate("--prompt", "Hi", "--max-new-tokens", "0").exitCode())
                .isEqualTo(2);
        assertThat(generate("--prompt", "Hi", "--top-k", "-1").err())
                .contains("--top-k: must be 0 (no limit) or positive, got -1");
        assertThat(generate("--prompt", "Hi", "-n", "0").err())
                .contains("--num-return-sequences: must be a positive integer, got 0");
    }

    private static CliRun generate(String... args) {
        String[] all = new String[args.length + 3];
        all[0] = "generate";
        all[1] = "--model";
        all[2] = modelDir.toString();
        System.arraycopy(args, 0, all, 3, args.length);
        return CliRun.of(all);
    }

    /** Generator's new tokens for the prompt, stopping where the CLI stops: the tokenizer's and config's eos. */
    private static long[] reference(int[] prompt, GenerationConfig settings) {
        return reference(model, prompt, settings);
    }

    private static long[] reference(CausalLm lm, int[] prompt, GenerationConfig settings) {
        Set<Long> stops = new HashSet<>();
        tokenizer.specialTokens().stopIds().forEach(id -> stops.add((long) id));
        lm.config().eosTokenIds().forEach(id -> stops.add((long) id));
        long[] ids = Arrays.stream(prompt).asLongStream().toArray();
        return Generator.generate(lm, List.of(ids), settings.withStopTokens(stops))
                .get(0);
    }

    /** Generator's sequences for a batch of prompts, with the CLI's stop tokens. */
    private static List<long[]> references(List<int[]> prompts, GenerationConfig settings) {
        Set<Long> stops = new HashSet<>();
        tokenizer.specialTokens().stopIds().forEach(id -> stops.add((long) id));
        model.config().eosTokenIds().forEach(id -> stops.add((long) id));
        List<long[]> ids = prompts.stream()
                .map(prompt -> Arrays.stream(prompt).asLongStream().toArray())
                .toList();
        return Generator.generate(model, ids, settings.withStopTokens(stops));
    }

    private static String decode(long[] ids) {
        return tokenizer.decode(Arrays.stream(ids).mapToInt(Math::toIntExact).toArray(), true);
    }

    private static int tokenCount(CliRun run) {
        Matcher m = TOKEN_COUNT.matcher(run.err());
        assertThat(m.find()).as(run.err()).isTrue();
        return Integer.parseInt(m.group(1));
    }

    private static void copyDirectory(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (Stream<Path> files = Files.list(from)) {
            for (Path file : files.toList()) {
                Files.copy(file, to.resolve(file.getFileName()), StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }
}
