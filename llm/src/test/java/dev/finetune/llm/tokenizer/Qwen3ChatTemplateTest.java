package dev.finetune.llm.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Qwen3's own chat template, loaded from its tokenizer_config.json, renders conversations
 * byte-identically to HuggingFace transformers (references rendered by Python Jinja2 with
 * transformers' environment: {@code src/test/python/render_chat_fixtures.py}), and each rendering
 * round-trips through Qwen3's tokenizer with the same ids as transformers.js
 * ({@code src/test/js/encode_qwen3_fixtures.js}).
 */
class Qwen3ChatTemplateTest {
    private static final ObjectMapper JSON = new ObjectMapper();

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

    private static final List<ChatMessage> CONVERSATION = List.of(
            ChatMessage.system("You are a concise assistant."),
            ChatMessage.user("What is the capital of France?"),
            ChatMessage.assistant("Paris."),
            ChatMessage.user("And of Italy? Answer in one word."));

    @Test
    void qwen3TemplateRendersMultiTurnConversationLikeHuggingFace() throws IOException {
        String rendered = template().render(CONVERSATION, true);

        assertThat(rendered).isEqualTo(Qwen3Fixture.text("expected/multi_turn_generation_prompt.txt"));
        assertThat(rendered).endsWith("<|im_start|>assistant\n");
    }

    @Test
    void enableThinkingFalseRendersTheEmptyThinkBlockLikeHuggingFace() throws IOException {
        String rendered = template().render(CONVERSATION, true, Map.of("enable_thinking", false));

        assertThat(rendered).isEqualTo(Qwen3Fixture.text("expected/multi_turn_thinking_disabled.txt"));
        assertThat(rendered).endsWith("<|im_start|>assistant\n<think>\n\n</think>\n\n");
    }

    static Stream<Arguments> cases() throws IOException {
        List<Arguments> cases = new ArrayList<>();
        for (JsonNode c :
                JSON.readTree(Qwen3Fixture.resource("chat_cases.json")).get("cases")) {
            cases.add(Arguments.of(c.get("name").asText(), c));
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void everyReferenceConversationRendersByteIdentically(String name, JsonNode c) throws IOException {
        List<Map<String, Object>> messages = JSON.convertValue(c.get("messages"), new TypeReference<>() {});
        Map<String, Object> variables = JSON.convertValue(c.get("variables"), new TypeReference<>() {});

        String rendered =
                template().renderMaps(messages, c.get("add_generation_prompt").asBoolean(), variables);

        assertThat(rendered).isEqualTo(Qwen3Fixture.text("expected/" + name + ".txt"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void renderingRoundTripsThroughTheTokenizerWithReferenceIds(String name, JsonNode c) throws IOException {
        String text = Qwen3Fixture.text("expected/" + name + ".txt");
        int[] reference = JSON.readValue(Qwen3Fixture.text("expected/" + name + ".ids.json"), int[].class);

        int[] ids = tokenizer.encode(text, false);

        assertThat(ids).containsExactly(reference);
        assertThat(tokenizer.decode(ids, false)).isEqualTo(text);
        long turns = text.split("<\\|im_start\\|>", -1).length - 1;
        assertThat(Arrays.stream(ids).filter(id -> id == Qwen3Fixture.IM_START).count())
                .as("each <|im_start|> is its single id")
                .isEqualTo(turns);
    }

    @Test
    void encodeChatEncodesTheRenderingWithoutAddingTokens() {
        int[] ids = tokenizer.encodeChat(CONVERSATION, true, Map.of());

        assertThat(ids).containsExactly(tokenizer.encode(template().render(CONVERSATION, true), false));
        assertThat(ids[0]).isEqualTo(Qwen3Fixture.IM_START);
    }

    private static ChatTemplate template() {
        return tokenizer.chatTemplate().orElseThrow();
    }
}
