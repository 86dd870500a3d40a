package dev.finetune.llm.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every Jinja construct that HuggingFace chat templates use (whitespace control, Python string
 * methods, namespaces, loop filters, tojson, raise_exception, whole templates in the header-token,
 * Mistral and Qwen2 styles) renders byte-identically to Python Jinja2. Inputs are
 * {@code jinja/constructs.json}; the expected outputs in {@code jinja/constructs.expected.json}
 * were produced by {@code src/test/python/render_chat_fixtures.py}.
 */
class JinjaConstructParityTest {
    /** The instant the Python renderer's strftime_now reports (2024-07-26 09:30). */
    static final Clock FIXED_CLOCK = Clock.fixed(Instant.parse("2024-07-26T09:30:00Z"), ZoneOffset.UTC);

    private static final ObjectMapper JSON = new ObjectMapper();

    static Stream<Arguments> cases() throws IOException {
        JsonNode cases = read("/jinja/constructs.json").get("cases");
        JsonNode expected = read("/jinja/constructs.expected.json").get("expected");
        List<Arguments> arguments = new ArrayList<>();
        for (JsonNode c : cases) {
            String name = c.get("name").asText();
            arguments.add(Arguments.of(name, c.get("template").asText(), c.get("context"), expected.get(name)));
        }
        return arguments.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void constructRendersLikePythonJinja2(String name, String template, JsonNode context, JsonNode expected) {
        assertThat(expected)
                .as("reference rendering for %s (rerun render_chat_fixtures.py)", name)
                .isNotNull();
        Map<String, Object> variables = JSON.convertValue(context, new TypeReference<>() {});
        List<Map<String, Object>> messages = JSON.convertValue(variables.remove("messages"), new TypeReference<>() {});
        Object generationPrompt = variables.remove("add_generation_prompt");
        ChatTemplate chatTemplate = ChatTemplate.of(template, Map.of(), name).withClock(FIXED_CLOCK);

        if (expected.has("raised")) {
            assertThatThrownBy(() -> render(chatTemplate, messages, generationPrompt, variables))
                    .isInstanceOf(ChatTemplateException.class)
                    .satisfies(e -> assertThat(((ChatTemplateException) e).raisedMessage())
                            .contains(expected.get("raised").asText()))
                    .hasMessageContaining(expected.get("raised").asText());
        } else {
            assertThat(render(chatTemplate, messages, generationPrompt, variables))
                    .isEqualTo(expected.get("output").asText());
        }
    }

    private static String render(
            ChatTemplate template,
            List<Map<String, Object>> messages,
            Object generationPrompt,
            Map<String, Object> variables) {
        return template.renderMaps(
                messages == null ? List.of() : messages, Boolean.TRUE.equals(generationPrompt), variables);
    }

    static JsonNode read(String resource) throws IOException {
        try (InputStream in = JinjaConstructParityTest.class.getResourceAsStream(resource)) {
            assertThat(in).as("test resource %s", resource).isNotNull();
            return JSON.readTree(in);
        }
    }
}
