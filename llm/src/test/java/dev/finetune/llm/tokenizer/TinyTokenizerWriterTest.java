package dev.finetune.llm.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The tiny tokenizer files are real HuggingFace files: DJL's tokenizers library loads them and text round-trips. */
class TinyTokenizerWriterTest {
    @TempDir
    Path dir;

    @Test
    void writtenFilesLoadAndRoundTripAnyText() throws IOException {
        TinyTokenizerWriter.Written written = TinyTokenizerWriter.write(dir);

        try (Tokenizer tokenizer = Tokenizer.load(dir)) {
            assertThat(tokenizer.vocabSize()).isEqualTo(written.vocabSize()).isBetween(300, 400);
            for (String text : List.of(
                    "Hello, world! The quick brown fox.",
                    "  leading and trailing spaces  ",
                    "tabs\tand\nnew\r\nlines\n\n",
                    "Ünïcödé, 中文, emoji 🙂🚀, control \u0001 chars",
                    "")) {
                int[] ids = tokenizer.encode(text, true);
                assertThat(Arrays.stream(ids).boxed().toList())
                        .allSatisfy(id -> assertThat(id).isBetween(0, written.vocabSize() - 1));
                assertThat(tokenizer.decode(ids, false))
                        .as("round trip of %s", text)
                        .isEqualTo(text);
            }
        }
    }

    @Test
    void mergesMakeRoleNamesAndCommonWordsSingleTokens() throws IOException {
        TinyTokenizerWriter.write(dir);

        try (Tokenizer tokenizer = Tokenizer.load(dir)) {
            assertThat(tokenizer.encode("assistant", false)).hasSize(1);
            assertThat(tokenizer.encode("user", false)).hasSize(1);
            assertThat(tokenizer.encode("Hello world", false)).hasSize(2);
            assertThat(tokenizer.encode("xyz", false))
                    .as("no merge applies: a token per byte")
                    .hasSize(3);
        }
    }

    @Test
    void chatMlTemplateRendersAndItsSpecialTokensAreSingleIds() throws IOException {
        TinyTokenizerWriter.Written written = TinyTokenizerWriter.write(dir);

        try (Tokenizer tokenizer = Tokenizer.load(dir)) {
            int imStart = written.vocabSize() - 2;
            int imEnd = written.vocabSize() - 1;
            assertThat(tokenizer.specialTokens().eos()).contains(new SpecialToken("<|im_end|>", imEnd));
            assertThat(tokenizer.specialTokens().pad())
                    .contains(new SpecialToken("<|endoftext|>", written.vocabSize() - 3));

            List<ChatMessage> chat = List.of(ChatMessage.system("Be brief."), ChatMessage.user("Hi"));
            String rendered = tokenizer.chatTemplate().orElseThrow().render(chat, true);
            assertThat(rendered)
                    .isEqualTo("<|im_start|>system\n"
                            + "Be brief.<|im_end|>\n"
                            + "<|im_start|>user\n"
                            + "Hi<|im_end|>\n"
                            + "<|im_start|>assistant\n");

            int[] ids = tokenizer.encodeChat(chat, true, Map.of());
            assertThat(ids[0]).isEqualTo(imStart);
            assertThat(Arrays.stream(ids).filter(id -> id == imStart).count()).isEqualTo(3);
            assertThat(Arrays.stream(ids).filter(id -> id == imEnd).count()).isEqualTo(2);
            assertThat(tokenizer.decode(ids, false)).isEqualTo(rendered);
            assertThat(tokenizer.decode(ids, true)).isEqualTo("system\nBe brief.\nuser\nHi\nassistant\n");
        }
    }

    @Test
    void byteSymbolsAreGpt2sTable() {
        char[] symbols = TinyTokenizerWriter.byteSymbols();

        assertThat(symbols[' ']).isEqualTo('Ġ');
        assertThat(symbols['\n']).isEqualTo('Ċ');
        assertThat(symbols['A']).isEqualTo('A');
        assertThat(new String(symbols).chars().distinct().count()).isEqualTo(256);
    }
}
