package dev.finetune.llm.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.Device;
import dev.finetune.llm.checkpoint.ModelType;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.model.Parameter;
import dev.finetune.llm.tiny.TinyModelGenerator;
import dev.finetune.llm.tiny.TinyModels;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class GeneratorTest {
    /** Different lengths, so the batch is left-padded; 7 + 12 tokens exceed mistral's window of 6. */
    private static final List<long[]> PROMPTS =
            List.of(new long[] {5, 17, 99}, new long[] {3, 44, 8, 120, 61, 9, 70}, new long[] {11, 12, 13, 14, 15});

    private static CausalLm tinyModel(ModelType type) {
        return TinyModelGenerator.create(
                TinyModels.config(type), 1234, TinyModelGenerator.Initialization.TEST, Device.cpu());
    }

    @ParameterizedTest
    @EnumSource(ModelType.class)
    void cachedAndUncachedGreedyGenerationGiveIdenticalTokens(ModelType type) {
        try (CausalLm model = tinyModel(type)) {
            GenerationConfig greedy = GenerationConfig.greedy(12);

            List<long[]> cached = Generator.generate(model, PROMPTS, greedy);
            List<long[]> uncached = Generator.generate(model, PROMPTS, greedy.withKvCache(false));

            assertThat(cached).hasSize(3);
            for (int b = 0; b < PROMPTS.size(); b++) {
                assertThat(cached.get(b)).as("row %d", b).hasSize(12).containsExactly(uncached.get(b));
            }
            assertThat(distinctTokens(cached))
                    .as("a non-degenerate continuation")
                    .isGreaterThan(3);
        }
    }

    @Test
    void cachedAndUncachedSamplingGiveIdenticalTokens() {
        try (CausalLm model = tinyModel(ModelType.QWEN3)) {
            GenerationConfig sampling = GenerationConfig.greedy(10).withSampling(0.9, 0.95, 77);

            List<long[]> cached = Generator.generate(model, PROMPTS, sampling);
            List<long[]> uncached = Generator.generate(model, PROMPTS, sampling.withKvCache(false));

            for (int b = 0; b < PROMPTS.size(); b++) {
                assertThat(cached.get(b)).containsExactly(uncached.get(b));
            }
        }
    }

    @Test
    void leftPaddedBatchContinuesEachPromptAsItWouldAlone() {
        try (CausalLm model = tinyModel(ModelType.MISTRAL)) {
            List<long[]> batched = Generator.generate(model, PROMPTS, GenerationConfig.greedy(8));
            for (int b = 0; b < PROMPTS.size(); b++) {
                List<long[]> alone = Generator.generate(model, List.of(PROMPTS.get(b)), GenerationConfig.greedy(8));
                assertThat(batched.get(b)).as("prompt %d", b).containsExactly(alone.get(0));
            }
        }
    }

    @ParameterizedTest
    @EnumSource(ModelType.class)
    void aBatchOnPackedWeightsContinuesEachPromptAsItWouldAlone(ModelType type) {
        try (CausalLm model = tinyModel(type)) {
            List<long[]> prompts = new ArrayList<>(PROMPTS);
            for (int i = 0; i < 5; i++) {
                prompts.add(new long[] {20 + i, 90 - 3 * i, 7, 40 + 11 * i});
            }
            List<long[]> batched = Generator.generate(model, prompts, GenerationConfig.greedy(12));
            assertThat(model.packedRows())
                    .as("eight rows run on packed weights")
                    .isEqualTo(8);
            for (int b = 0; b < prompts.size(); b++) {
                List<long[]> alone = Generator.generate(model, List.of(prompts.get(b)), GenerationConfig.greedy(12));
                assertThat(batched.get(b)).as("prompt %d", b).containsExactly(alone.get(0));
            }
        }
    }

    @ParameterizedTest
    @EnumSource(ModelType.class)
    void eachSampledRowOfABatchIsTheSequenceItsSeedGivesAlone(ModelType type) {
        try (CausalLm model = tinyModel(type)) {
            GenerationConfig sampling =
                    GenerationConfig.greedy(12).withSampling(1.2, 0.9, 40).withTopK(20);

            List<long[]> batched = Generator.generate(model, PROMPTS, sampling);

            for (int r = 0; r < PROMPTS.size(); r++) {
                List<long[]> alone =
                        Generator.generate(model, List.of(PROMPTS.get(r)), sampling.withSampling(1.2, 0.9, 40 + r));
                assertThat(batched.get(r)).as("row %d", r).containsExactly(alone.get(0));
            }
            assertThat(distinctTokens(batched)).as("sampling, not a constant").isGreaterThan(8);
        }
    }

    @Test
    void samplesSharingAPromptsPrefillEqualIndependentSamplesWithTheSameSeeds() {
        try (CausalLm model = tinyModel(ModelType.QWEN3)) {
            GenerationConfig sampling = GenerationConfig.greedy(10).withSampling(1.0, 0.95, 9);
            List<long[]> repeated = new ArrayList<>();
            for (long[] prompt : PROMPTS) {
                for (int j = 0; j < 4; j++) {
                    repeated.add(prompt); // four independent copies, each prefilled on its own row
                }
            }

            List<long[]> shared = Generator.generate(model, PROMPTS, sampling.withNumReturnSequences(4));
            List<long[]> independent = Generator.generate(model, repeated, sampling);

            assertThat(shared).hasSize(12);
            for (int r = 0; r < shared.size(); r++) {
                assertThat(shared.get(r))
                        .as("prompt %d sample %d", r / 4, r % 4)
                        .containsExactly(independent.get(r));
            }
            assertThat(shared.subList(0, 4).stream().map(Arrays::toString).distinct())
                    .as("the samples of one prompt differ")
                    .hasSizeGreaterThan(1);
        }
    }

    @Test
    void batchesByLengthGiveEverySequenceInThePromptsOrderAsOneBatchWould() {
        try (CausalLm model = tinyModel(ModelType.QWEN3)) {
            List<long[]> prompts = new ArrayList<>(PROMPTS);
            prompts.add(new long[] {40, 41});
            prompts.add(new long[] {7, 7, 7, 7, 7, 7, 7, 7, 7});
            GenerationConfig sampling =
                    GenerationConfig.greedy(8).withSampling(1.0, 1.0, 21).withNumReturnSequences(2);

            List<long[]> oneBatch = Generator.generate(model, prompts, sampling);
            List<long[]> byLength = Generator.generate(model, prompts, sampling, 2);
            List<long[]> greedyByLength = Generator.generate(model, prompts, GenerationConfig.greedy(8), 3);

            assertThat(byLength).hasSize(10);
            for (int r = 0; r < byLength.size(); r++) {
                assertThat(byLength.get(r)).as("sequence %d", r).containsExactly(oneBatch.get(r));
            }
            for (int i = 0; i < prompts.size(); i++) {
                long[] alone = Generator.generate(model, List.of(prompts.get(i)), GenerationConfig.greedy(8))
                        .get(0);
                assertThat(greedyByLength.get(i)).as("prompt %d", i).containsExactly(alone);
            }
            assertThatThrownBy(() -> Generator.generate(model, prompts, sampling, 0))
                    .hasMessage("generation batch size must be at least 1, got 0");
        }
    }

    @Test
    void greedySamplesOfOnePromptAreAllItsGreedyContinuation() {
        try (CausalLm model = tinyModel(ModelType.LLAMA)) {
            List<long[]> samples = Generator.generate(
                    model, List.of(PROMPTS.get(2)), GenerationConfig.greedy(8).withNumReturnSequences(3));
            long[] greedy = Generator.generate(model, List.of(PROMPTS.get(2)), GenerationConfig.greedy(8))
                    .get(0);

            assertThat(samples).hasSize(3).allSatisfy(sample -> assertThat(sample)
                    .containsExactly(greedy));
        }
    }

    @Test
    void rowsThatStopLeaveTheBatchWithoutChangingTheOthers() {
        try (CausalLm model = tinyModel(ModelType.MISTRAL)) {
            List<long[]> free = Generator.generate(model, PROMPTS, GenerationConfig.greedy(12));
            long stop = free.get(0)[1]; // row 0 stops by its second token, the others when (if) they reach it

            List<long[]> stopped = Generator.generate(
                    model, PROMPTS, GenerationConfig.greedy(12).withStopTokens(Set.of(stop)));

            assertThat(stopped.get(0)).hasSizeLessThanOrEqualTo(2);
            for (int r = 0; r < PROMPTS.size(); r++) {
                assertThat(stopped.get(r)).as("row %d", r).containsExactly(untilStop(free.get(r), stop));
            }
        }
    }

    @Test
    void samplingIsReproducibleWithItsSeedAndVariesAcrossSeeds() {
        try (CausalLm model = tinyModel(ModelType.LLAMA)) {
            GenerationConfig sampling = GenerationConfig.greedy(16).withSampling(1.5, 1.0, 1);
            List<long[]> first = Generator.generate(model, PROMPTS, sampling);
            List<long[]> again = Generator.generate(model, PROMPTS, sampling);
            List<long[]> otherSeed = Generator.generate(model, PROMPTS, sampling.withSampling(1.5, 1.0, 2));
            List<long[]> greedy = Generator.generate(model, PROMPTS, GenerationConfig.greedy(16));

            for (int b = 0; b < PROMPTS.size(); b++) {
                assertThat(first.get(b)).containsExactly(again.get(b));
            }
            assertThat(flatten(otherSeed)).isNotEqualTo(flatten(first));
            assertThat(flatten(greedy)).isNotEqualTo(flatten(first));
        }
    }

    @Test
    void topPSmallerThanAnyTokenProbabilityIsGreedy() {
        try (CausalLm model = tinyModel(ModelType.QWEN2)) {
            List<long[]> nucleusOfOne = Generator.generate(
                    model, PROMPTS, GenerationConfig.greedy(10).withSampling(1.0, 1e-9, 3));
            List<long[]> greedy = Generator.generate(model, PROMPTS, GenerationConfig.greedy(10));

            assertThat(flatten(nucleusOfOne)).isEqualTo(flatten(greedy));
        }
    }

    @Test
    void generationEndsAfterTheFirstStopToken() {
        try (CausalLm model = tinyModel(ModelType.LLAMA)) {
            long[] free = Generator.generate(model, List.of(PROMPTS.get(1)), GenerationConfig.greedy(10))
                    .get(0);
            long stop = free[3];
            int firstStop = 0;
            while (free[firstStop] != stop) {
                firstStop++;
            }

            long[] stopped = Generator.generate(
                            model,
                            List.of(PROMPTS.get(1)),
                            GenerationConfig.greedy(10).withStopTokens(Set.of(stop)))
                    .get(0);

            assertThat(stopped).containsExactly(Arrays.copyOf(free, firstStop + 1));
        }
    }

    @Test
    void listenerHearsEachSequencesTokensStepByStepUntilItsStopToken() {
        try (CausalLm model = tinyModel(ModelType.LLAMA)) {
            long stop = Generator.generate(model, List.of(PROMPTS.get(1)), GenerationConfig.greedy(10))
                    .get(0)[3];
            List<Heard> heard = new ArrayList<>();

            List<long[]> result = Generator.generate(
                    model,
                    PROMPTS,
                    GenerationConfig.greedy(10).withStopTokens(Set.of(stop)),
                    (sequence, step, token) -> heard.add(new Heard(sequence, step, token)));

            assertThat(result.get(1)).as("the stopped sequence").hasSizeLessThan(10);
            assertThat(result.get(0)).as("a sequence that runs on").hasSize(10);
            List<Heard> expected = new ArrayList<>();
            for (int step = 0; step < 10; step++) {
                for (int b = 0; b < result.size(); b++) {
                    if (step < result.get(b).length) {
                        expected.add(new Heard(b, step, result.get(b)[step]));
                    }
                }
            }
            assertThat(heard).containsExactlyElementsOf(expected);
        }
    }

    @Test
    void listenerHearsEachTokenBeforeTheNextOneIsComputed() {
        try (CausalLm model = tinyModel(ModelType.LLAMA)) {
            long[] prompt = PROMPTS.get(1);
            long[] free = Generator.generate(model, List.of(prompt), GenerationConfig.greedy(6))
                    .get(0);
            Parameter lmHead = model.namedParameters().get("lm_head.weight");

            // Zeroing the LM head makes every later logit 0, so greedy picks token 0 from then on:
            // only a listener called between steps, not after the last one, changes what follows.
            TokenListener zeroHeadAfterFirstToken = (sequence, step, token) -> {
                if (step == 0) {
                    lmHead.set(model.manager().zeros(lmHead.shape()));
                }
            };
            long[] streamed = Generator.generate(
                            model, List.of(prompt), GenerationConfig.greedy(6), zeroHeadAfterFirstToken)
                    .get(0);

            assertThat(streamed).containsExactly(free[0], 0, 0, 0, 0, 0);
            assertThat(free).as("the untouched continuation").isNotEqualTo(streamed);
        }
    }

    /** A prompt that repeats itself, so prompt lookup finds drafts from the first step on. */
    private static final long[] REPEATING = {5, 17, 99, 42, 8, 5, 17, 99, 42, 8, 5, 17};

    @ParameterizedTest
    @EnumSource(ModelType.class)
    void promptLookupGivesExactlyTheGreedyTokensAndKeepsDrafts(ModelType type) {
        try (CausalLm model = tinyModel(type)) {
            for (long[] prompt : List.of(REPEATING, PROMPTS.get(1))) {
                long[] greedy = Generator.generate(model, List.of(prompt), GenerationConfig.greedy(40))
                        .get(0);
                DraftTally drafts = new DraftTally(TokenListener.NONE);

                long[] lookedUp = Generator.generate(
                                model,
                                List.of(prompt),
                                GenerationConfig.greedy(40).withPromptLookup(6),
                                drafts)
                        .get(0);

                assertThat(lookedUp).as("prompt %s", Arrays.toString(prompt)).containsExactly(greedy);
                assertThat(drafts.checks()).as("speculative steps").isPositive();
                assertThat(drafts.kept()).as("draft tokens kept").isPositive();
                assertThat(drafts.kept()).isLessThanOrEqualTo(drafts.drafted());
                assertThat(drafts.tokens()).as("every token heard once").isEqualTo(40);
            }
        }
    }

    @Test
    void promptLookupNeverRunsPastMaxNewTokens() {
        try (CausalLm model = tinyModel(ModelType.LLAMA)) {
            long[] greedy = Generator.generate(model, List.of(REPEATING), GenerationConfig.greedy(30))
                    .get(0);
            for (int max = 1; max <= 30; max += 3) {
                long[] lookedUp = Generator.generate(
                                model,
                                List.of(REPEATING),
                                GenerationConfig.greedy(max).withPromptLookup(10))
                        .get(0);

                assertThat(lookedUp).as("max %d", max).containsExactly(Arrays.copyOf(greedy, max));
            }
        }
    }

    @Test
    void promptLookupStopsAtAStopTokenItsDraftWouldHaveCarried() {
        try (CausalLm model = tinyModel(ModelType.QWEN3)) {
            long[] free = Generator.generate(model, List.of(REPEATING), GenerationConfig.greedy(40))
                    .get(0);
            for (long stop : new long[] {free[20], free[35], REPEATING[3]}) {
                GenerationConfig stopping = GenerationConfig.greedy(40).withStopTokens(Set.of(stop));
                long[] plain =
                        Generator.generate(model, List.of(REPEATING), stopping).get(0);

                long[] lookedUp = Generator.generate(model, List.of(REPEATING), stopping.withPromptLookup(8))
                        .get(0);

                assertThat(plain).as("stop %d", stop).containsExactly(untilStop(free, stop));
                assertThat(lookedUp).as("stop %d", stop).containsExactly(plain);
            }
        }
    }

    @Test
    void aPaddedRowLeftAloneInItsBatchSpeculatesFromItsOwnCache() {
        try (CausalLm model = tinyModel(ModelType.MISTRAL)) {
            long[] shortPrompt = {5, 17, 99, 5, 17}; // padded to the long prompt's length in the batch
            long[] longPrompt = {3, 44, 8, 120, 61, 9, 70, 3, 44};
            List<long[]> prompts = List.of(longPrompt, shortPrompt);
            long stop = Generator.generate(model, List.of(longPrompt), GenerationConfig.greedy(2))
                    .get(0)[1]; // the long prompt's row stops by its second token
            GenerationConfig config = GenerationConfig.greedy(30).withStopTokens(Set.of(stop));
            List<long[]> plain = Generator.generate(model, prompts, config);
            assertThat(plain.get(0)).hasSizeLessThanOrEqualTo(2);
            assertThat(plain.get(1)).as("the short prompt runs on alone").hasSizeGreaterThan(10);
            Set<Integer> speculating = new HashSet<>();
            TokenListener checks = new TokenListener() {
                @Override
                public void onToken(int sequence, int step, long token) {}

                @Override
                public void onDraftChecked(int sequence, int drafted, int kept) {
                    speculating.add(sequence);
                }
            };

            List<long[]> lookedUp = Generator.generate(model, prompts, config.withPromptLookup(5), checks);

            assertThat(lookedUp.get(0)).containsExactly(plain.get(0));
            assertThat(lookedUp.get(1)).containsExactly(plain.get(1));
            assertThat(speculating).as("only the row left alone speculates").containsExactly(1);
        }
    }

    @Test
    void promptLookupNeedsGreedyDecoding() {
        assertThatThrownBy(() -> GenerationConfig.greedy(4).withPromptLookup(4).withSampling(0.7, 1, 1))
                .hasMessage("generation.promptLookupTokens needs greedy decoding (temperature 0), got temperature 0.7");
        assertThatThrownBy(() -> GenerationConfig.greedy(4).withPromptLookup(-1))
                .hasMessage("generation.promptLookupTokens must be in [0, 64] (0 = off), got -1");
        assertThatThrownBy(() -> GenerationConfig.greedy(4).withPromptLookup(65))
                .hasMessage("generation.promptLookupTokens must be in [0, 64] (0 = off), got 65");
    }

    @Test
    void invalidSettingsAreRejectedNamingTheValue() {
        assertThatThrownBy(() -> GenerationConfig.greedy(-1))
                .hasMessage("generation.maxNewTokens must be non-negative, got -1");
        assertThatThrownBy(() -> GenerationConfig.greedy(4).withSampling(0.7, 0, 1))
                .hasMessage("generation.topP must be in (0, 1], got 0.0");
        assertThatThrownBy(() -> GenerationConfig.greedy(4).withSampling(-1, 1, 1))
                .hasMessage("generation.temperature must be 0 (greedy) or positive, got -1.0");
        assertThatThrownBy(() -> GenerationConfig.greedy(4).withTopK(-2))
                .hasMessage("generation.topK must be 0 (no limit) or positive, got -2");
        assertThatThrownBy(() -> GenerationConfig.greedy(4).withNumReturnSequences(0))
                .hasMessage("generation.numReturnSequences must be at least 1, got 0");
    }

    private record Heard(int sequence, int step, long token) {}

    /** The tokens up to and including the first {@code stop}, or all of them. */
    private static long[] untilStop(long[] tokens, long stop) {
        for (int i = 0; i < tokens.length; i++) {
            if (tokens[i] == stop) {
                return Arrays.copyOf(tokens, i + 1);
            }
        }
        return tokens;
    }

    private static int distinctTokens(List<long[]> rows) {
        Set<Long> tokens = new HashSet<>();
        rows.forEach(row -> Arrays.stream(row).forEach(tokens::add));
        return tokens.size();
    }

    private static List<Long> flatten(List<long[]> rows) {
        return rows.stream().flatMap(row -> Arrays.stream(row).boxed()).toList();
    }
}
