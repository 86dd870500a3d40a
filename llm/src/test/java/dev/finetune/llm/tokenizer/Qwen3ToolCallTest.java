package dev.finetune.llm.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.finetune.llm.objective.ChatEncoder;
import dev.finetune.llm.objective.TrainingSequence;
import dev.finetune.llm.train.ChatDatasets;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A multi-turn tool conversation (a tools list, assistant tool calls with arguments as an object and
 * as a JSON string, tool results, final answers), read from a training line the way SFT reads it,
 * renders through Qwen3's template exactly as Python Jinja2 renders it
 * ({@code expected/tool_conversation_for_training.txt}), and its loss mask covers the assistant's
 * tool calls and answers but never a tool result.
 */
class Qwen3ToolCallTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CASE = "tool_conversation_for_training";

    @TempDir
    static Path dir;

    private static Tokenizer tokenizer;
    private static ChatDatasets.Conversation conversation;

    @BeforeAll
    static void load() throws IOException {
        tokenizer = Tokenizer.load(Qwen3Fixture.unpackInto(Files.createDirectories(dir.resolve("model"))));
        conversation = ChatDatasets.supervised(trainingLine()).get(0);
    }

    @AfterAll
    static void close() {
        tokenizer.close();
    }

    /** The fixture case as a dataset line: {@code {"messages": [...], "tools": [...]}}. */
    private static Path trainingLine() throws IOException {
        JsonNode fixture = null;
        for (JsonNode c :
                JSON.readTree(Qwen3Fixture.resource("chat_cases.json")).get("cases")) {
            if (c.get("name").asText().equals(CASE)) {
                fixture = c;
            }
        }
        ObjectNode line = JSON.createObjectNode();
        line.set("messages", fixture.get("messages"));
        line.set("tools", fixture.get("variables").get("tools"));
        return Files.writeString(dir.resolve("train.jsonl"), JSON.writeValueAsString(line) + "\n");
    }

    @Test
    void toolConversationRendersExactlyAsPythonJinja2() throws IOException {
        String rendered = template().render(conversation.messages(), false, Map.of("tools", conversation.tools()));

        assertThat(conversation.messages().get(2).toolCalls())
                .extracting(ToolCall::arguments)
                .containsExactly(Map.of("city", "Lisbon", "unit", "celsius"), "{\"city\": \"Lisbon\"}");
        assertThat(rendered).isEqualTo(Qwen3Fixture.text("expected/" + CASE + ".txt"));
    }

    @Test
    void encoderTokensAreTheReferenceIds() throws IOException {
        int[] reference = JSON.readValue(Qwen3Fixture.text("expected/" + CASE + ".ids.json"), int[].class);

        TrainingSequence sequence =
                encoder().sft(conversation.messages(), true, 4096).orElseThrow();

        assertThat(sequence.ids())
                .containsExactly(Arrays.stream(reference).asLongStream().toArray());
    }

    @Test
    void lossCoversToolCallsAndAnswersButNotToolResults() {
        TrainingSequence sequence =
                encoder().sft(conversation.messages(), true, 4096).orElseThrow();

        assertThat(trainedSpans(sequence))
                .containsExactly(
                        "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Lisbon\", \"unit\":"
                                + " \"celsius\"}}\n</tool_call>\n<tool_call>\n{\"name\": \"local_time\", \"arguments\":"
                                + " {\"city\": \"Lisbon\"}}\n</tool_call><|im_end|>",
                        "Yes: 24°C and clear. It is 14:05 in Lisbon.<|im_end|>",
                        "Let me check.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\":"
                                + " \"Oslo\"}}\n</tool_call><|im_end|>",
                        "<think>\n\n</think>\n\nOslo is 3°C with snow.<|im_end|>\n");
    }

    @Test
    void withoutToolsBoundTheTemplateOmitsTheToolsPrompt() {
        String bare = template().render(conversation.messages(), false);
        String withTools = template().render(conversation.messages(), false, Map.of("tools", conversation.tools()));

        assertThat(bare).doesNotContain("<tools>");
        assertThat(withTools).contains("<tools>").contains("\"name\": \"local_time\"");
    }

    @Test
    void qwen3TemplateIsDetectedAsRenderingToolCalls() {
        assertThat(ToolCallSupport.rendersToolCalls(template())).isTrue();
    }

    @Test
    void plainChatMlTemplateIsDetectedAsNotRenderingToolCalls() {
        ChatTemplate chatMl = ChatTemplate.of(TinyTokenizerWriter.CHATML_TEMPLATE, Map.of(), "tiny ChatML");

        assertThat(ToolCallSupport.rendersToolCalls(chatMl)).isFalse();
    }

    /** A template that prints the function name but drops the arguments does not count as supporting tools. */
    @Test
    void templateDroppingTheArgumentsIsDetectedAsNotRenderingToolCalls() {
        ChatTemplate namesOnly = ChatTemplate.of(
                "{% for m in messages %}{{ m.role }}: {{ m.content }}{% if m.tool_calls %}"
                        + "{% for c in m.tool_calls %}[{{ c.function.name }}]{% endfor %}{% endif %}\n{% endfor %}",
                Map.of(), "names only");

        assertThat(ToolCallSupport.rendersToolCalls(namesOnly)).isFalse();
    }

    private static ChatEncoder encoder() {
        return new ChatEncoder(tokenizer, Map.of()).withTools(conversation.tools());
    }

    /** The decoded text of each run of trained tokens. */
    private static List<String> trainedSpans(TrainingSequence sequence) {
        long[] ids = sequence.ids();
        boolean[] targets = sequence.targets();
        List<String> spans = new ArrayList<>();
        int t = 0;
        while (t < ids.length) {
            if (!targets[t]) {
                t++;
                continue;
            }
            int start = t;
            while (t < ids.length && targets[t]) {
                t++;
            }
            int[] span = Arrays.stream(Arrays.copyOfRange(ids, start, t))
                    .mapToInt(Math::toIntExact)
                    .toArray();
            spans.add(tokenizer.decode(span, false));
        }
        return spans;
    }

    private static ChatTemplate template() {
        return tokenizer.chatTemplate().orElseThrow();
    }
}
