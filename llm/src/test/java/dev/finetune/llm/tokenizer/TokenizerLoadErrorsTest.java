package dev.finetune.llm.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Missing or broken tokenizer files are reported with the file and the field, and the accepted variants load. */
class TokenizerLoadErrorsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private TinyTokenizerWriter.Written written;

    @BeforeEach
    void writeValidTokenizer() throws IOException {
        written = TinyTokenizerWriter.write(dir);
    }

    @Test
    void missingTokenizerJsonIsReportedWithItsPath() throws IOException {
        Files.delete(written.tokenizerJson());

        assertThatThrownBy(() -> Tokenizer.load(dir))
                .isInstanceOf(TokenizerException.class)
                .hasMessageContaining(written.tokenizerJson().toString())
                .hasMessageContaining("missing")
                .satisfies(e -> assertThat(((TokenizerException) e).file()).isEqualTo(written.tokenizerJson()));
    }

    @Test
    void missingTokenizerConfigIsReportedWithItsPath() throws IOException {
        Files.delete(written.tokenizerConfig());

        assertThatThrownBy(() -> Tokenizer.load(dir))
                .isInstanceOf(TokenizerException.class)
                .hasMessageContaining(written.tokenizerConfig().toString())
                .hasMessageContaining("missing");
    }

    @Test
    void corruptTokenizerJsonIsReportedWithLineAndColumn() throws IOException {
        Files.writeString(
                written.tokenizerJson(),
                "{\n  \"version\": \"1.0\",\n  \"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0,,}}\n}");

        assertThatThrownBy(() -> Tokenizer.load(dir))
                .isInstanceOf(TokenizerException.class)
                .hasMessageContaining(written.tokenizerJson().toString())
                .hasMessageContaining("invalid JSON at line 3");
    }

    @Test
    void tokenizerJsonWithoutModelNamesTheField() throws IOException {
        Files.writeString(written.tokenizerJson(), "{\"version\": \"1.0\", \"added_tokens\": []}");

        assertThatThrownBy(() -> Tokenizer.load(dir))
                .isInstanceOf(TokenizerException.class)
                .satisfies(e -> assertThat(((TokenizerException) e).field()).isEqualTo("model"));
    }

    @Test
    void specialTokenOfTheWrongTypeNamesTheField() throws IOException {
        editConfig(config -> config.put("eos_token", 5));

        assertThatThrownBy(() -> Tokenizer.load(dir))
                .isInstanceOf(TokenizerException.class)
                .hasMessageContaining(written.tokenizerConfig().toString())
                .hasMessageContaining("'eos_token'")
                .hasMessageContaining("NUMBER");
    }

    @Test
    void specialTokenMissingFromTheVocabularyNamesTheField() throws IOException {
        editConfig(config -> config.put("pad_token", "<|pad|>"));

        assertThatThrownBy(() -> Tokenizer.load(dir))
                .isInstanceOf(TokenizerException.class)
                .hasMessageContaining("'pad_token'")
                .hasMessageContaining("'<|pad|>' is not a token of tokenizer.json");
    }

    @Test
    void addedTokenObjectsAreAcceptedAsSpecialTokens() throws IOException {
        editConfig(config -> config.putObject("eos_token")
                .put("__type", "AddedToken")
                .put("content", "<|im_end|>")
                .put("special", true));

        try (Tokenizer tokenizer = Tokenizer.load(dir)) {
            assertThat(tokenizer.specialTokens().eos())
                    .contains(new SpecialToken("<|im_end|>", written.vocabSize() - 1));
            assertThat(tokenizer.chatTemplate().orElseThrow().render(List.of(), false, Map.of()))
                    .as("no messages, no output")
                    .isEmpty();
        }
    }

    @Test
    void generationConfigEosOfTheWrongTypeNamesTheField() throws IOException {
        Path generationConfig = dir.resolve("generation_config.json");
        Files.writeString(generationConfig, "{\"eos_token_id\": \"<|im_end|>\"}");

        assertThatThrownBy(() -> Tokenizer.load(dir))
                .isInstanceOf(TokenizerException.class)
                .hasMessageContaining(generationConfig.toString())
                .hasMessageContaining("'eos_token_id'");
    }

    @Test
    void generationConfigEosOutsideTheVocabularyIsRejected() throws IOException {
        Files.writeString(dir.resolve("generation_config.json"), "{\"eos_token_id\": [1, 100000]}");

        assertThatThrownBy(() -> Tokenizer.load(dir))
                .isInstanceOf(TokenizerException.class)
                .hasMessageContaining("100000 is outside the vocabulary");
    }

    @Test
    void chatTemplateJinjaFileTakesPrecedenceOverTheConfigField() throws IOException {
        Path jinja = dir.resolve("chat_template.jinja");
        Files.writeString(jinja, "{% for m in messages %}[{{ m.role }}]{% endfor %}\n");

        try (Tokenizer tokenizer = Tokenizer.load(dir)) {
            ChatTemplate template = tokenizer.chatTemplate().orElseThrow();
            assertThat(template.source()).isEqualTo(jinja.toString());
            assertThat(template.render(List.of(ChatMessage.user("hi")), false)).isEqualTo("[user]");
        }
    }

    @Test
    void namedTemplateListUsesTheDefaultTemplate() throws IOException {
        editConfig(config -> {
            var list = config.putArray("chat_template");
            list.addObject().put("name", "tool_use").put("template", "tools");
            list.addObject().put("name", "default").put("template", "default:{{ messages|length }}");
        });

        try (Tokenizer tokenizer = Tokenizer.load(dir)) {
            assertThat(tokenizer.chatTemplate().orElseThrow().render(List.of(ChatMessage.user("a")), false))
                    .isEqualTo("default:1");
        }
    }

    @Test
    void chatTemplateTheRendererCannotRunIsReportedAtLoad() throws IOException {
        editConfig(config -> config.put("chat_template", "{{ messages|map(attribute='content')|max }}"));

        assertThatThrownBy(() -> Tokenizer.load(dir))
                .isInstanceOf(TokenizerException.class)
                .hasMessageContaining(written.tokenizerConfig().toString())
                .hasMessageContaining("'chat_template'")
                .hasMessageContaining("filter 'max'");
    }

    @Test
    void tokenizerWithoutChatTemplateHasNone() throws IOException {
        editConfig(config -> config.remove("chat_template"));

        try (Tokenizer tokenizer = Tokenizer.load(dir)) {
            assertThat(tokenizer.chatTemplate()).isEmpty();
            assertThatThrownBy(() -> tokenizer.encodeChat(List.of(ChatMessage.user("a")), true, Map.of()))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("no chat_template");
        }
    }

    @Test
    void cleanUpTokenizationSpacesIsAppliedWhenConfigured() throws IOException {
        editConfig(config -> config.put("clean_up_tokenization_spaces", true));

        try (Tokenizer tokenizer = Tokenizer.load(dir)) {
            int[] ids = tokenizer.encode("Hello , world . It 's", false);
            assertThat(tokenizer.decode(ids, false)).isEqualTo("Hello, world. It's");
        }
    }

    private void editConfig(Consumer<ObjectNode> edit) throws IOException {
        ObjectNode config = (ObjectNode) JSON.readTree(written.tokenizerConfig().toFile());
        edit.accept(config);
        JSON.writeValue(written.tokenizerConfig().toFile(), config);
    }
}
