package dev.finetune.dataset.format;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.dataset.validation.InvalidLineException;
import dev.finetune.dataset.validation.LineError;
import dev.finetune.events.DatasetFormat;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * Tool-calling conversations: the OpenAI / HuggingFace shape in {@code messages} (assistant
 * {@code tool_calls}, {@code tool} results, top-level {@code tools}) and LLaMA-Factory's ShareGPT
 * {@code function_call} / {@code observation} turns, accepted into one canonical form and refused
 * with the line, field path and value when malformed.
 */
class ToolCallLinesTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static final String TOOLS = "[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\","
            + "\"description\":\"Weather for a city\",\"parameters\":{\"type\":\"object\","
            + "\"properties\":{\"city\":{\"type\":\"string\"}}}}}]";

    /** user, a call with its arguments as {@code args}, the result, the answer. */
    private static String chatLine(String args, String extra) {
        return "{\"messages\":[{\"role\":\"user\",\"content\":\"Weather in Paris?\"},"
                + "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"c1\",\"type\":\"function\","
                + "\"function\":{\"name\":\"get_weather\",\"arguments\":" + args + "}}]},"
                + "{\"role\":\"tool\",\"tool_call_id\":\"c1\",\"name\":\"get_weather\",\"content\":\"21 C\"},"
                + "{\"role\":\"assistant\",\"content\":\"It is 21 C.\"}]" + extra + "}";
    }

    @Test
    void toolConversationIsKeptWithCallsResultsAndTools() throws Exception {
        CanonicalExample asObject = chat().parse(line(1, chatLine("{\"city\":\"Paris\"}", ",\"tools\":" + TOOLS)));
        CanonicalExample asString = chat().parse(line(2, chatLine("\"{\\\"city\\\": \\\"Paris\\\"}\"", "")));

        assertThat(asObject.messages())
                .extracting(Message::role)
                .containsExactly("user", "assistant", "tool", "assistant");
        Message call = asObject.messages().get(1);
        assertThat(call.content()).isEmpty();
        assertThat(call.toolCalls())
                .containsExactly(new ToolCall("c1", "get_weather", JSON.readTree("{\"city\":\"Paris\"}")));
        assertThat(asObject.messages().get(2).toolCallId()).isEqualTo("c1");
        assertThat(asObject.messages().get(2).name()).isEqualTo("get_weather");
        assertThat(asObject.tools()).containsExactly(JSON.readTree(TOOLS).get(0));
        assertThat(asString.messages().get(1).toolCalls().get(0).arguments().textValue())
                .isEqualTo("{\"city\": \"Paris\"}");
        assertThat(asString.tools()).isEmpty();
    }

    @Test
    void toolCallsArePartOfTheAnswerForNearDuplicates() throws Exception {
        CanonicalExample paris = chat().parse(line(1, chatLine("{\"city\":\"Paris\"}", "")));
        CanonicalExample rome = chat().parse(line(2, chatLine("{\"city\":\"Rome\"}", "")));

        assertThat(paris.parts().get(1))
                .contains("get_weather {\"city\":\"Paris\"}")
                .contains("It is 21 C.");
        assertThat(paris.parts().get(1)).isNotEqualTo(rome.parts().get(1));
        assertThat(paris.parts().get(0)).contains("21 C").doesNotContain("get_weather");
    }

    @Test
    void argumentsThatAreNotJsonAreRefusedWithLineFieldAndValue() {
        LineError error = errorOf(chat(), line(4, chatLine("\"{city: Paris\"", "")));

        assertThat(error.line()).isEqualTo(4);
        assertThat(error.field()).isEqualTo("messages[1].tool_calls[0].function.arguments");
        assertThat(error.reason()).startsWith("not valid JSON: ");
        assertThat(error.value()).isEqualTo("{city: Paris");
    }

    @Test
    void argumentsThatAreNeitherObjectNorStringAreRefused() {
        assertThat(errorOf(chat(), line(1, chatLine("[1]", ""))).reason())
                .isEqualTo("must be a JSON object or a string holding one");
        assertThat(errorOf(chat(), line(1, chatLine("\"[1]\"", ""))).reason()).isEqualTo("must hold a JSON object");
    }

    @Test
    void callOfAFunctionMissingFromToolsIsRefused() {
        String tools = ",\"tools\":" + TOOLS.replace("get_weather", "get_time");

        LineError error = errorOf(chat(), line(3, chatLine("{}", tools)));

        assertThat(error.field()).isEqualTo("messages[1].tool_calls[0].function.name");
        assertThat(error.reason()).contains("not in tools [get_time]");
        assertThat(error.value()).isEqualTo("get_weather");
    }

    @Test
    void toolResultMustFollowACall() {
        String line = "{\"messages\":[{\"role\":\"user\",\"content\":\"Q\"},{\"role\":\"tool\",\"content\":\"r\"},"
                + "{\"role\":\"assistant\",\"content\":\"A\"}]}";

        LineError error = errorOf(chat(), line(5, line));

        assertThat(error.field()).isEqualTo("messages[1].role");
        assertThat(error.reason()).isEqualTo("wrong role order: expected assistant after user");
        assertThat(error.value()).isEqualTo("tool");
    }

    @Test
    void callWithoutItsResultIsRefused() {
        String line = "{\"messages\":[{\"role\":\"user\",\"content\":\"Q\"},{\"role\":\"assistant\",\"tool_calls\":"
                + "[{\"function\":{\"name\":\"f\",\"arguments\":{}}}]},{\"role\":\"user\",\"content\":\"A\"},"
                + "{\"role\":\"assistant\",\"content\":\"A\"}]}";

        LineError error = errorOf(chat(), line(1, line));

        assertThat(error.field()).isEqualTo("messages[2].role");
        assertThat(error.reason()).isEqualTo("wrong role order: expected tool after assistant with tool calls");
    }

    @Test
    void malformedCallsAndToolsAreRefusedNamingTheField() {
        assertThat(errorOf(
                                chat(),
                                line(
                                        1,
                                        chatLine("{}", "")
                                                .replace("\"name\":\"get_weather\",\"arguments\"", "\"arguments\"")))
                        .field())
                .isEqualTo("messages[1].tool_calls[0].function.name");
        assertThat(errorOf(chat(), line(1, chatLine("{}", "").replace("\"type\":\"function\"", "\"type\":\"code\"")))
                        .field())
                .isEqualTo("messages[1].tool_calls[0].type");
        assertThat(errorOf(
                                chat(),
                                line(
                                        1,
                                        chatLine("{}", "")
                                                .replace("\"tool_call_id\":\"c1\"", "\"tool_call_id\":\"c9\"")))
                        .field())
                .isEqualTo("messages[2].tool_call_id");
        assertThat(errorOf(chat(), line(1, chatLine("{}", ",\"tools\":{}"))).field())
                .isEqualTo("tools");
        assertThat(errorOf(
                                chat(),
                                line(
                                        1,
                                        chatLine(
                                                "{}",
                                                ",\"tools\":[{\"type\":\"function\",\"function\":"
                                                        + "{\"name\":\"get_weather\",\"parameters\":\"city\"}}]")))
                        .field())
                .isEqualTo("tools[0].function.parameters");
        String userCalls = "{\"messages\":[{\"role\":\"user\",\"content\":\"Q\",\"tool_calls\":[]},"
                + "{\"role\":\"assistant\",\"content\":\"A\"}]}";
        assertThat(errorOf(chat(), line(1, userCalls)).reason()).isEqualTo("only assistant messages call tools");
    }

    @Test
    void toolCallsOutsideChatMessagesAreRefused() {
        String pair = "{\"prompt\":[{\"role\":\"user\",\"content\":\"Q\"}],\"chosen\":[{\"role\":\"assistant\","
                + "\"content\":\"\",\"tool_calls\":[{\"function\":{\"name\":\"f\",\"arguments\":{}}}]}],"
                + "\"rejected\":[{\"role\":\"assistant\",\"content\":\"no\"}]}";

        LineError error = errorOf(new LineParser(DatasetFormat.PREFERENCE, 10_000), line(1, pair));

        assertThat(error.field()).isEqualTo("chosen[0].tool_calls");
    }

    @Test
    void shareGptFunctionCallAndObservationBecomeToolMessages() throws Exception {
        String shareGpt = "{\"conversations\":[{\"from\":\"human\",\"value\":\"Weather in Paris?\"},"
                + "{\"from\":\"function_call\",\"value\":\"{\\\"name\\\": \\\"get_weather\\\", \\\"arguments\\\":"
                + " {\\\"city\\\": \\\"Paris\\\"}}\"},{\"from\":\"observation\",\"value\":\"21 C\"},"
                + "{\"from\":\"gpt\",\"value\":\"It is 21 C.\"}],\"tools\":" + JSON.writeValueAsString(TOOLS) + "}";

        CanonicalExample e = new LineParser(DatasetFormat.AUTO, 10_000).parse(line(1, shareGpt));

        assertThat(e.messages()).extracting(Message::role).containsExactly("user", "assistant", "tool", "assistant");
        assertThat(e.messages().get(1).toolCalls())
                .containsExactly(new ToolCall(null, "get_weather", JSON.readTree("{\"city\":\"Paris\"}")));
        assertThat(e.messages().get(2).content()).isEqualTo("21 C");
        assertThat(e.tools()).containsExactly(JSON.readTree(TOOLS).get(0));
    }

    @Test
    void shareGptFunctionCallThatIsNotJsonIsRefused() {
        String shareGpt = "{\"conversations\":[{\"from\":\"human\",\"value\":\"Q\"},"
                + "{\"from\":\"function_call\",\"value\":\"get_weather(Paris)\"},{\"from\":\"observation\",\"value\":\"r\"},"
                + "{\"from\":\"gpt\",\"value\":\"A\"}]}";

        LineError error = errorOf(new LineParser(DatasetFormat.SHAREGPT, 10_000), line(7, shareGpt));

        assertThat(error.line()).isEqualTo(7);
        assertThat(error.field()).isEqualTo("conversations[1].value");
        assertThat(error.reason()).startsWith("not valid JSON");
        assertThat(error.value()).isEqualTo("get_weather(Paris)");
    }

    @Test
    void shareGptCallOfAnUndeclaredFunctionIsRefused() {
        String shareGpt = "{\"conversations\":[{\"from\":\"human\",\"value\":\"Q\"},"
                + "{\"from\":\"function_call\",\"value\":\"{\\\"name\\\": \\\"f\\\", \\\"arguments\\\": {}}\"},"
                + "{\"from\":\"observation\",\"value\":\"r\"},{\"from\":\"gpt\",\"value\":\"A\"}],\"tools\":" + TOOLS
                + "}";

        LineError error = errorOf(new LineParser(DatasetFormat.SHAREGPT, 10_000), line(1, shareGpt));

        assertThat(error.field()).isEqualTo("conversations[1].tool_calls[0].function.name");
        assertThat(error.value()).isEqualTo("f");
    }

    private static LineParser chat() {
        return new LineParser(DatasetFormat.CHAT, 10_000);
    }

    private static JsonlLines.Line line(long n, String json) {
        return new JsonlLines.Line(n, json.getBytes(StandardCharsets.UTF_8), true, false);
    }

    private static LineError errorOf(LineParser parser, JsonlLines.Line line) {
        try {
            parser.parse(line);
        } catch (InvalidLineException e) {
            return e.error();
        }
        throw new AssertionError(
                "line " + line.number() + " was accepted: " + new String(line.bytes(), StandardCharsets.UTF_8));
    }
}
