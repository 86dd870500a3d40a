package dev.finetune.dataset.prepare;

import static org.assertj.core.api.Assertions.assertThat;

import dev.finetune.dataset.format.CanonicalExample;
import dev.finetune.dataset.format.JsonlLines;
import dev.finetune.dataset.format.LineParser;
import dev.finetune.dataset.validation.InvalidLineException;
import dev.finetune.dataset.validation.LineError;
import dev.finetune.events.DatasetFormat;
import dev.finetune.events.DatasetKind;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * Prompt-only lines (PPO, GRPO): each accepted form becomes the one prepared line
 * {@code {"prompt": [...], "reference": "..."}}, each bad one names its line, field and value, and
 * lines of the formats that existed before read as they did.
 */
class PromptOnlyLinesTest {
    private static final String USER_Q = "{\"role\":\"user\",\"content\":\"What is 2 + 2?\"}";
    private static final String SYSTEM = "{\"role\":\"system\",\"content\":\"Answer with the number only.\"}";

    @Test
    void aPromptStringWithAReferenceIsAUserTurnAndItsReference() throws Exception {
        LineParser parser = new LineParser(DatasetFormat.AUTO, 1000);

        CanonicalExample example = parser.parse(line(1, "{\"prompt\":\" What is 2 + 2? \",\"reference\":\" 4\"}"));

        assertThat(example.kind()).isEqualTo(DatasetKind.PROMPT);
        // TRL's prompt-only format is the prompt/completion layout without the completion.
        assertThat(parser.format()).isEqualTo(DatasetFormat.PROMPT_COMPLETION);
        assertThat(canonical(example)).isEqualTo("{\"prompt\":[" + USER_Q + "],\"reference\":\"4\"}");
    }

    @Test
    void aPromptWithoutReferenceIsPreparedWithoutOne() throws Exception {
        CanonicalExample example =
                new LineParser(DatasetFormat.AUTO, 1000).parse(line(1, "{\"prompt\":\"What is 2 + 2?\"}"));

        assertThat(example.reference()).isEmpty();
        assertThat(canonical(example)).isEqualTo("{\"prompt\":[" + USER_Q + "]}");
    }

    @Test
    void aPromptConversationKeepsItsSystemAndEarlierTurns() throws Exception {
        String turns = SYSTEM + ",{\"role\":\"user\",\"content\":\"What is 1 + 1?\"},"
                + "{\"role\":\"assistant\",\"content\":\"2\"}," + USER_Q;

        CanonicalExample example = new LineParser(DatasetFormat.AUTO, 1000)
                .parse(line(1, "{\"prompt\":[" + turns + "],\"reference\":\"4\"}"));

        assertThat(canonical(example)).isEqualTo("{\"prompt\":[" + turns + "],\"reference\":\"4\"}");
    }

    @Test
    void chatMessagesEndingInAUserTurnWithAReferenceArePromptsAndLaterOnesNeedNoReference() throws Exception {
        LineParser parser = new LineParser(DatasetFormat.AUTO, 1000);

        CanonicalExample first =
                parser.parse(line(1, "{\"messages\":[" + SYSTEM + "," + USER_Q + "],\"reference\":\"4\"}"));
        CanonicalExample second = parser.parse(line(2, "{\"messages\":[" + USER_Q + "]}"));

        assertThat(parser.format()).isEqualTo(DatasetFormat.CHAT);
        assertThat(canonical(first)).isEqualTo("{\"prompt\":[" + SYSTEM + "," + USER_Q + "],\"reference\":\"4\"}");
        assertThat(second.kind()).isEqualTo(DatasetKind.PROMPT);
        assertThat(canonical(second)).isEqualTo("{\"prompt\":[" + USER_Q + "]}");
    }

    @Test
    void trlRewardColumnNamesAreReadAsTheReference() throws Exception {
        for (String field : new String[] {"solution", "ground_truth", "answer"}) {
            CanonicalExample example = new LineParser(DatasetFormat.AUTO, 1000)
                    .parse(line(1, "{\"prompt\":\"What is 2 + 2?\",\"" + field + "\":\"4\"}"));

            assertThat(canonical(example)).as(field).isEqualTo("{\"prompt\":[" + USER_Q + "],\"reference\":\"4\"}");
        }
    }

    @Test
    void aDeclaredPromptCompletionDatasetAcceptsPromptsAlone() throws Exception {
        CanonicalExample example =
                new LineParser(DatasetFormat.PROMPT_COMPLETION, 1000).parse(line(1, "{\"prompt\":\"What is 2 + 2?\"}"));

        assertThat(example.kind()).isEqualTo(DatasetKind.PROMPT);
    }

    @Test
    void badPromptsNameLineFieldAndValue() {
        assertThat(errorOf(line(3, "{\"prompt\":\"  \",\"reference\":\"4\"}")))
                .isEqualTo(new LineError(3, "prompt", "must not be empty", null));
        assertThat(errorOf(line(4, "{\"prompt\":5}")))
                .isEqualTo(new LineError(4, "prompt", "must be a list of {role, content} messages", "number"));
        assertThat(errorOf(line(5, "{\"prompt\":[" + USER_Q + ",{\"role\":\"assistant\",\"content\":\"4\"}]}")))
                .isEqualTo(new LineError(5, "prompt[1].role", "must end with a user message", "assistant"));
        assertThat(errorOf(line(6, "{\"prompt\":[{\"role\":\"assistant\",\"content\":\"Hi\"}," + USER_Q + "]}")))
                .isEqualTo(new LineError(6, "prompt[0].role", "wrong role order: expected user", "assistant"));
    }

    @Test
    void badReferencesNameLineFieldAndValue() {
        assertThat(errorOf(line(2, "{\"prompt\":\"What is 2 + 2?\",\"reference\":4}")))
                .isEqualTo(new LineError(2, "reference", "must be a string (a number is written as one: \"42\")", "4"));
        assertThat(errorOf(line(3, "{\"prompt\":\"What is 2 + 2?\",\"solution\":[\"4\"]}")))
                .isEqualTo(
                        new LineError(3, "solution", "must be a string (a number is written as one: \"42\")", "array"));
        assertThat(errorOf(line(4, "{\"prompt\":\"What is 2 + 2?\",\"reference\":\" \"}")))
                .isEqualTo(new LineError(4, "reference", "must not be empty (leave it out when there is none)", null));
        assertThat(errorOf(line(5, "{\"prompt\":\"What is 2 + 2?\",\"reference\":\"4\",\"answer\":\"four\"}")))
                .isEqualTo(new LineError(
                        5, "answer", "gives the reference answer a second time (it is in reference)", null));
    }

    @Test
    void aChatPromptMayNotUseToolsItsPreparedLineCannotCarry() {
        String tools = "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"add\"}}]";
        assertThat(errorOf(line(1, "{" + tools + ",\"messages\":[" + USER_Q + "],\"reference\":\"4\"}")))
                .isEqualTo(new LineError(
                        1, "tools", "are not accepted in a prompt: prepared prompts carry no tools", null));
        String called = "{\"role\":\"assistant\",\"tool_calls\":[{\"function\":{\"name\":\"add\",\"arguments\":{}}}]},"
                + "{\"role\":\"tool\",\"content\":\"4\"},";
        assertThat(errorOf(line(2, "{\"messages\":[" + USER_Q + "," + called + USER_Q + "],\"reference\":\"4\"}"))
                        .field())
                .isEqualTo("messages[1].tool_calls");
    }

    @Test
    void aDatasetOfPromptsRefusesLinesWithAnswersNamingTheLineThatMadeIt() throws Exception {
        LineParser prompts = new LineParser(DatasetFormat.AUTO, 1000);
        prompts.parse(line(1, "{\"prompt\":\"What is 2 + 2?\"}"));

        assertThat(errorOf(prompts, line(2, "{\"prompt\":\"What is 3 + 3?\",\"completion\":\"6\"}")))
                .isEqualTo(new LineError(
                        2,
                        "completion",
                        "is not accepted: line 1 made this a dataset of prompts, which have no answers",
                        null));

        LineParser chatPrompts = new LineParser(DatasetFormat.CHAT, 1000);
        chatPrompts.parse(line(7, "{\"messages\":[" + USER_Q + "],\"reference\":\"4\"}"));
        assertThat(errorOf(
                        chatPrompts,
                        line(8, "{\"messages\":[" + USER_Q + ",{\"role\":\"assistant\",\"content\":\"4\"}]}")))
                .isEqualTo(new LineError(
                        8,
                        "messages[1].role",
                        "must end with a user message: line 7 made this a dataset of prompts",
                        "assistant"));
    }

    @Test
    void aDatasetOfConversationsRefusesPromptsAsItAlwaysDid() throws Exception {
        LineParser completions = new LineParser(DatasetFormat.AUTO, 1000);
        completions.parse(line(1, "{\"prompt\":\"What is 3 + 3?\",\"completion\":\"6\"}"));
        assertThat(errorOf(completions, line(2, "{\"prompt\":\"What is 2 + 2?\",\"reference\":\"4\"}")))
                .isEqualTo(new LineError(2, "completion", "is required", null));

        LineParser chat = new LineParser(DatasetFormat.AUTO, 1000);
        chat.parse(line(1, "{\"messages\":[" + USER_Q + ",{\"role\":\"assistant\",\"content\":\"4\"}]}"));
        assertThat(errorOf(chat, line(2, "{\"messages\":[" + USER_Q + "],\"reference\":\"4\"}")))
                .isEqualTo(new LineError(2, "messages[0].role", "must end with an assistant message", "user"));
    }

    @Test
    void aPromptAloneInADeclaredPreferenceOrUnpairedDatasetStillNamesTheMissingAnswer() {
        assertThat(errorOf(new LineParser(DatasetFormat.PREFERENCE, 1000), line(1, "{\"prompt\":\"Q\"}")))
                .isEqualTo(new LineError(1, "chosen", "is required", null));
        assertThat(errorOf(new LineParser(DatasetFormat.UNPAIRED_PREFERENCE, 1000), line(1, "{\"prompt\":\"Q\"}")))
                .isEqualTo(new LineError(1, "completion", "is required", null));
        assertThat(errorOf(new LineParser(DatasetFormat.CHAT, 1000), line(1, "{\"prompt\":\"Q\"}")))
                .isEqualTo(new LineError(1, "messages", "is required", null));
    }

    @Test
    void aPromptIsComparedAsItsPromptAndItsReferenceAndMeasuredWithBoth() throws Exception {
        CanonicalExample example = new LineParser(DatasetFormat.AUTO, 1000)
                .parse(line(1, "{\"prompt\":[" + SYSTEM + "," + USER_Q + "],\"reference\":\"4\"}"));

        assertThat(example.parts()).containsExactly("Answer with the number only.\nWhat is 2 + 2?\n", "4");
        assertThat(example.characters())
                .isEqualTo("Answer with the number only.".length() + "What is 2 + 2?".length() + 1);
        assertThat(example.text())
                .isEqualTo(
                        "system\u0000Answer with the number only.\u0001user\u0000What is 2 + 2?\u0001assistant\u00004\u0001");
    }

    private static String canonical(CanonicalExample example) throws Exception {
        return new String(DatasetPreparation.canonicalJson(example), StandardCharsets.UTF_8);
    }

    private static JsonlLines.Line line(long n, String json) {
        return new JsonlLines.Line(n, json.getBytes(StandardCharsets.UTF_8), true, false);
    }

    private static LineError errorOf(JsonlLines.Line line) {
        return errorOf(new LineParser(DatasetFormat.AUTO, 1000), line);
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
