package dev.finetune.llm.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Qwen3's real tokenizer files load offline through DJL and behave like transformers' tokenizer. */
class Qwen3TokenizerTest {
    @TempDir
    static Path modelDir;

    private static Tokenizer tokenizer;

    @BeforeAll
    static void load() throws IOException {
        tokenizer = Tokenizer.load(Qwen3Fixture.unpackInto(modelDir));
    }

    @AfterAll
    static void close() {
        tokenizer.close();
    }

    @Test
    void vocabularySizeCountsAddedTokensLikeLenTokenizer() {
        assertThat(tokenizer.vocabSize()).isEqualTo(151_669); // 151,643 BPE tokens + 26 added
    }

    @Test
    void specialTokensComeFromTokenizerConfig() {
        SpecialTokens special = tokenizer.specialTokens();

        assertThat(special.bos()).isEmpty();
        assertThat(special.eos()).contains(new SpecialToken("<|im_end|>", Qwen3Fixture.IM_END));
        assertThat(special.pad()).contains(new SpecialToken("<|endoftext|>", Qwen3Fixture.END_OF_TEXT));
        assertThat(special.unk()).isEmpty();
        assertThat(special.stopIds()).containsExactly(Qwen3Fixture.IM_END);
        assertThat(special.isSpecial(Qwen3Fixture.IM_START)).isTrue();
        assertThat(special.isSpecial(Qwen3Fixture.THINK))
                .as("<think> is added but not special")
                .isFalse();
    }

    @Test
    void specialTokensEncodeToTheirSingleIds() {
        assertThat(tokenizer.encode("<|im_start|>", false)).containsExactly(Qwen3Fixture.IM_START);
        assertThat(tokenizer.encode("<|im_end|>", false)).containsExactly(Qwen3Fixture.IM_END);
        assertThat(tokenizer.encode("<|endoftext|>", false)).containsExactly(Qwen3Fixture.END_OF_TEXT);
        assertThat(tokenizer.encode("<think>", false)).containsExactly(Qwen3Fixture.THINK);
        assertThat(tokenizer.encode("<|im_start|>user\nHello world<|im_end|>", true))
                .containsExactly(Qwen3Fixture.IM_START, 872, 198, 9707, 1879, Qwen3Fixture.IM_END);
    }

    @Test
    void decodeSkipsSpecialTokensOnlyWhenAsked() {
        int[] ids = tokenizer.encode("<|im_start|>assistant\nHi!<|im_end|>", false);

        assertThat(tokenizer.decode(ids, false)).isEqualTo("<|im_start|>assistant\nHi!<|im_end|>");
        assertThat(tokenizer.decode(ids, true)).isEqualTo("assistant\nHi!");
    }

    @Test
    void batchEncodingMatchesEncodingEachText() {
        List<String> texts = List.of("short", "a somewhat longer sentence, with punctuation!", "中文 🙂", "");

        List<int[]> batch = tokenizer.encodeBatch(texts, false);

        assertThat(batch).hasSize(texts.size());
        for (int i = 0; i < texts.size(); i++) {
            assertThat(batch.get(i)).as(texts.get(i)).containsExactly(tokenizer.encode(texts.get(i), false));
        }
    }

    @Test
    void longTextIsNeitherTruncatedNorPadded() {
        assertThat(tokenizer.encode(" word".repeat(5000), true)).hasSize(5000);
    }

    @Test
    void decodingAnIdOutsideTheVocabularyIsRejected() {
        assertThatThrownBy(() -> tokenizer.decode(new int[] {151_669}, false))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("151669");
    }

    @Test
    void generationConfigEosListBecomesTheStopIds(@TempDir Path dir) throws IOException {
        Qwen3Fixture.unpackInto(dir);
        Files.writeString(
                dir.resolve("generation_config.json"), "{\"eos_token_id\": [151645, 151643], \"do_sample\": true}");

        try (Tokenizer withGenerationConfig = Tokenizer.load(dir)) {
            assertThat(withGenerationConfig.specialTokens().stopIds())
                    .containsExactly(Qwen3Fixture.IM_END, Qwen3Fixture.END_OF_TEXT);
        }
    }
}
