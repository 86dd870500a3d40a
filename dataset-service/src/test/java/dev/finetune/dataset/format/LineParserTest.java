package dev.finetune.dataset.format;

import static org.assertj.core.api.Assertions.assertThat;

import dev.finetune.dataset.validation.InvalidLineException;
import dev.finetune.dataset.validation.LineError;
import dev.finetune.events.DatasetFormat;
import dev.finetune.events.DatasetKind;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class LineParserTest {
    private final LineParser auto = new LineParser(DatasetFormat.AUTO, 1000);

    @Test
    void alpacaBecomesUserAndAssistantTurnsWithInputAppended() throws Exception {
        CanonicalExample e =
                auto.parse(line(1, "{\"instruction\":\"Translate\",\"input\":\"chat\",\"output\":\"cat\"}"));
        assertThat(e.messages())
                .containsExactly(new Message("user", "Translate\n\nchat"), new Message("assistant", "cat"));
        assertThat(auto.format()).isEqualTo(DatasetFormat.ALPACA);
    }

    @Test
    void twoObjectsOnOneLineAreRefusedNotHalfRead() {
        LineError error = errorOf(auto, line(4, "{\"prompt\":\"a\",\"completion\":\"b\"}{\"prompt\":\"c\"}"));
        assertThat(error.line()).isEqualTo(4);
        assertThat(error.reason()).startsWith("invalid JSON: Trailing token");
    }

    @Test
    void aDeclaredPreferenceLineWithoutChosenNamesTheMissingField() {
        LineParser preference = new LineParser(DatasetFormat.PREFERENCE, 1000);
        LineError error = errorOf(preference, line(3, "{\"prompt\":\"q\",\"rejected\":\"b\"}"));
        assertThat(error.field()).isEqualTo("chosen");
        assertThat(error.reason()).isEqualTo("is required");
    }

    @Test
    void promptCompletionBecomesUserAndAssistantTurns() throws Exception {
        CanonicalExample e = auto.parse(line(1, "{\"prompt\":\"2+2?\",\"completion\":\" 4 \"}"));
        assertThat(e.messages()).containsExactly(new Message("user", "2+2?"), new Message("assistant", "4"));
    }

    @Test
    void chatMessagesAreKeptWithTheirSystemTurn() throws Exception {
        CanonicalExample e = auto.parse(line(
                1,
                "{\"messages\":[{\"role\":\"system\",\"content\":\"Be brief\"},"
                        + "{\"role\":\"user\",\"content\":\"Hi\"},{\"role\":\"assistant\",\"content\":\"Hello\"}]}"));
        assertThat(e.messages()).extracting(Message::role).containsExactly("system", "user", "assistant");
        assertThat(e.isPreference()).isFalse();
    }

    @Test
    void preferencePairWithStringsBecomesPromptChosenRejected() throws Exception {
        CanonicalExample e = auto.parse(line(1, "{\"prompt\":\"Q\",\"chosen\":\"good\",\"rejected\":\"bad\"}"));
        assertThat(e.isPreference()).isTrue();
        assertThat(e.messages()).containsExactly(new Message("user", "Q"));
        assertThat(e.chosen()).containsExactly(new Message("assistant", "good"));
        assertThat(e.rejected()).containsExactly(new Message("assistant", "bad"));
    }

    @Test
    void chatShapedPreferenceWithoutPromptSharesItsCommonPrefix() throws Exception {
        CanonicalExample e = auto.parse(line(
                1,
                "{\"chosen\":[{\"role\":\"user\",\"content\":\"Q\"},"
                        + "{\"role\":\"assistant\",\"content\":\"good\"}],\"rejected\":[{\"role\":\"user\",\"content\":\"Q\"},"
                        + "{\"role\":\"assistant\",\"content\":\"bad\"}]}"));
        assertThat(e.messages()).containsExactly(new Message("user", "Q"));
        assertThat(e.chosen()).containsExactly(new Message("assistant", "good"));
    }

    @Test
    void labelledCompletionIsAnUnpairedPreferenceExample() throws Exception {
        CanonicalExample e = auto.parse(line(1, "{\"prompt\":\"Q\",\"completion\":\"good\",\"label\":true}"));
        assertThat(auto.format()).isEqualTo(DatasetFormat.UNPAIRED_PREFERENCE);
        assertThat(e.kind()).isEqualTo(DatasetKind.UNPAIRED_PREFERENCE);
        assertThat(e.messages()).containsExactly(new Message("user", "Q"));
        assertThat(e.chosen()).containsExactly(new Message("assistant", "good"));
        assertThat(e.label()).isTrue();
        CanonicalExample chat = auto.parse(line(
                2,
                "{\"prompt\":[{\"role\":\"system\",\"content\":\"S\"},{\"role\":\"user\",\"content\":\"Q\"}],"
                        + "\"completion\":[{\"role\":\"assistant\",\"content\":\"bad\"}],\"label\":false}"));
        assertThat(chat.messages()).extracting(Message::role).containsExactly("system", "user");
        assertThat(chat.label()).isFalse();
    }

    @Test
    void anUnpairedLineWithABadOrMissingLabelNamesLineFieldAndValue() throws Exception {
        LineError notBoolean = errorOf(auto, line(5, "{\"prompt\":\"Q\",\"completion\":\"a\",\"label\":\"yes\"}"));
        assertThat(notBoolean.line()).isEqualTo(5);
        assertThat(notBoolean.field()).isEqualTo("label");
        assertThat(notBoolean.reason()).isEqualTo("must be true or false");
        assertThat(notBoolean.value()).isEqualTo("yes");
        auto.parse(line(6, "{\"prompt\":\"Q\",\"completion\":\"a\",\"label\":true}"));
        LineError missing = errorOf(auto, line(7, "{\"prompt\":\"Q\",\"completion\":\"b\"}"));
        assertThat(missing.field()).isEqualTo("label");
        assertThat(missing.reason()).isEqualTo("is required");
        LineError wrongRole = errorOf(
                auto,
                line(8, "{\"prompt\":\"Q\",\"completion\":[{\"role\":\"user\",\"content\":\"b\"}],\"label\":true}"));
        assertThat(wrongRole.field()).isEqualTo("completion[0].role");
        assertThat(wrongRole.value()).isEqualTo("user");
    }

    @Test
    void malformedJsonIsReportedWithItsLineNumber() {
        LineError error = errorOf(auto, line(7, "{\"instruction\": \"x\", "));
        assertThat(error.line()).isEqualTo(7);
        assertThat(error.field()).isNull();
        assertThat(error.reason()).startsWith("invalid JSON");
    }

    @Test
    void missingFieldIsNamed() throws Exception {
        auto.parse(line(1, "{\"instruction\":\"a\",\"output\":\"b\"}"));
        LineError error = errorOf(auto, line(2, "{\"instruction\":\"a\",\"output\":null}"));
        assertThat(error).isEqualTo(new LineError(2, "output", "is required", null));
    }

    @Test
    void wrongRoleOrderNamesTheMessageAndRole() {
        LineError error = errorOf(
                auto,
                line(
                        3,
                        "{\"messages\":[{\"role\":\"user\",\"content\":\"a\"},"
                                + "{\"role\":\"user\",\"content\":\"b\"},{\"role\":\"assistant\",\"content\":\"c\"}]}"));
        assertThat(error.field()).isEqualTo("messages[1].role");
        assertThat(error.reason()).contains("expected assistant after user");
        assertThat(error.value()).isEqualTo("user");
    }

    @Test
    void unknownRoleIsRejectedWithTheAllowedOnes() {
        LineError error = errorOf(auto, line(1, "{\"messages\":[{\"role\":\"bot\",\"content\":\"a\"}]}"));
        assertThat(error.field()).isEqualTo("messages[0].role");
        assertThat(error.reason()).isEqualTo("must be one of system, user, assistant, tool");
        LineError inPrompt = errorOf(
                new LineParser(DatasetFormat.PREFERENCE, 1000),
                line(2, "{\"prompt\":[{\"role\":\"tool\",\"content\":\"a\"}],\"chosen\":\"b\",\"rejected\":\"c\"}"));
        assertThat(inPrompt.field()).isEqualTo("prompt[0].role");
        assertThat(inPrompt.reason())
                .as("tool turns belong to chat conversations only")
                .isEqualTo("must be one of system, user, assistant");
    }

    @Test
    void contentOfOnlyWhitespaceCountsAsEmpty() {
        LineError error = errorOf(
                auto,
                line(
                        1,
                        "{\"messages\":[{\"role\":\"user\",\"content\":\"a\"},"
                                + "{\"role\":\"assistant\",\"content\":\" \\n\\t \"}]}"));
        assertThat(error).isEqualTo(new LineError(1, "messages[1].content", "must not be empty", null));
    }

    @Test
    void conversationMustEndWithTheAssistant() {
        LineError error = errorOf(auto, line(1, "{\"messages\":[{\"role\":\"user\",\"content\":\"a\"}]}"));
        assertThat(error.field()).isEqualTo("messages[0].role");
        assertThat(error.reason()).isEqualTo("must end with an assistant message");
    }

    @Test
    void exampleOverTheLengthLimitIsRejectedWithItsLength() {
        LineError error = errorOf(
                new LineParser(DatasetFormat.AUTO, 10), line(4, "{\"prompt\":\"0123456789\",\"completion\":\"abc\"}"));
        assertThat(error.reason()).isEqualTo("example has 13 characters, limit 10");
    }

    @Test
    void invalidUtf8IsReportedAsSuchNotAsJson() {
        byte[] bytes = {'{', '"', 'p', '"', ':', '"', (byte) 0xC3, (byte) 0x28, '"', '}'};
        LineError error = errorOf(auto, new JsonlLines.Line(9, bytes, false, false));
        assertThat(error).isEqualTo(new LineError(9, null, "not valid UTF-8", null));
    }

    @Test
    void lineOfAnotherFormatThanTheDatasetIsRejected() throws Exception {
        auto.parse(line(1, "{\"prompt\":\"a\",\"completion\":\"b\"}"));
        LineError error = errorOf(auto, line(2, "{\"instruction\":\"a\",\"output\":\"b\"}"));
        assertThat(error.reason())
                .isEqualTo("line has the fields of the alpaca format but the dataset is prompt_completion");
    }

    @Test
    void identicalChosenAndRejectedIsRejected() {
        LineError error = errorOf(auto, line(1, "{\"prompt\":\"Q\",\"chosen\":\"same\",\"rejected\":\" same\"}"));
        assertThat(error.field()).isEqualTo("rejected");
        assertThat(error.reason()).isEqualTo("is identical to chosen");
    }

    @Test
    void shareGptConversationsBecomeTheChatFormWithTheirRolesMapped() throws InvalidLineException {
        LineParser parser = new LineParser(DatasetFormat.AUTO, 1000);
        CanonicalExample e = parser.parse(line(
                1,
                "{\"system\":\"Be brief.\",\"conversations\":[{\"from\":\"human\",\"value\":\"Hi\"},"
                        + "{\"from\":\"gpt\",\"value\":\"Hello\"},{\"from\":\"User\",\"value\":\"Bye\"},"
                        + "{\"from\":\"assistant\",\"value\":\"Goodbye\"}]}"));

        assertThat(parser.format()).isEqualTo(DatasetFormat.SHAREGPT);
        assertThat(e.messages())
                .containsExactly(
                        new Message("system", "Be brief."),
                        new Message("user", "Hi"),
                        new Message("assistant", "Hello"),
                        new Message("user", "Bye"),
                        new Message("assistant", "Goodbye"));
        CanonicalExample asChat = new LineParser(DatasetFormat.AUTO, 1000)
                .parse(line(
                        1,
                        "{\"messages\":[{\"role\":\"system\",\"content\":\"Be brief.\"},"
                                + "{\"role\":\"user\",\"content\":\"Hi\"},{\"role\":\"assistant\",\"content\":\"Hello\"},"
                                + "{\"role\":\"user\",\"content\":\"Bye\"},"
                                + "{\"role\":\"assistant\",\"content\":\"Goodbye\"}]}"));
        assertThat(e.messages()).isEqualTo(asChat.messages());
    }

    @Test
    void shareGptTurnsAreCheckedNamingTheTurnAndField() {
        LineParser parser = new LineParser(DatasetFormat.SHAREGPT, 1000);
        LineError speaker = errorOf(
                parser,
                line(
                        2,
                        "{\"conversations\":[{\"from\":\"human\",\"value\":\"Weather?\"},"
                                + "{\"from\":\"narrator\",\"value\":\"{}\"}]}"));
        assertThat(speaker.line()).isEqualTo(2);
        assertThat(speaker.field()).isEqualTo("conversations[1].from");
        assertThat(speaker.value()).isEqualTo("narrator");
        assertThat(speaker.reason()).contains("must be one of").contains("function_call, observation");

        assertThat(errorOf(parser, line(3, "{\"conversations\":[{\"from\":\"human\"}]}"))
                        .field())
                .isEqualTo("conversations[0].value");
        LineError unanswered = errorOf(parser, line(4, "{\"conversations\":[{\"from\":\"human\",\"value\":\"Q\"}]}"));
        assertThat(unanswered.field()).isEqualTo("conversations[0].from");
        assertThat(unanswered.reason()).isEqualTo("must end with an assistant message");
        LineError twoSystems = errorOf(
                parser,
                line(
                        5,
                        "{\"system\":\"A\",\"conversations\":[{\"from\":\"system\",\"value\":\"B\"},"
                                + "{\"from\":\"human\",\"value\":\"Q\"},{\"from\":\"gpt\",\"value\":\"R\"}]}"));
        assertThat(twoSystems.field()).isEqualTo("system");
        assertThat(errorOf(parser, line(6, "{\"conversations\":{}}")).reason())
                .isEqualTo("must be a list of {from, value} turns");
    }

    @Test
    void aMultipleChoiceQuestionKeepsItsChoicesAndIsAlsoTheConversationOfItsRightAnswer() throws InvalidLineException {
        LineParser parser = new LineParser(DatasetFormat.AUTO, 1000);
        CanonicalExample byIndex = parser.parse(line(
                1, "{\"question\":\"Capital of Peru?\",\"choices\":[\"Quito\",\"Lima\",\"Bogota\"],\"answer\":1}"));
        CanonicalExample byText = parser.parse(line(
                2,
                "{\"question\":\"Capital of Peru?\",\"choices\":[\"Quito\",\"Lima\",\"Bogota\"],\"answer\":\"Lima\"}"));

        assertThat(parser.format()).isEqualTo(DatasetFormat.MULTIPLE_CHOICE);
        assertThat(byIndex.kind()).isEqualTo(DatasetKind.MULTIPLE_CHOICE);
        assertThat(byIndex.choices()).containsExactly("Quito", "Lima", "Bogota");
        assertThat(byIndex.answer()).isEqualTo(1);
        assertThat(byIndex.messages())
                .containsExactly(new Message("user", "Capital of Peru?"), new Message("assistant", "Lima"));
        assertThat(byText).isEqualTo(byIndex);
    }

    @Test
    void multipleChoiceLinesAreCheckedNamingTheField() {
        LineParser parser = new LineParser(DatasetFormat.MULTIPLE_CHOICE, 1000);
        LineError outOfRange = errorOf(parser, line(1, "{\"question\":\"Q\",\"choices\":[\"a\",\"b\"],\"answer\":2}"));
        assertThat(outOfRange.field()).isEqualTo("answer");
        assertThat(outOfRange.reason()).isEqualTo("must be a choice's index, 0 to 1");
        assertThat(outOfRange.value()).isEqualTo("2");
        LineError notAChoice =
                errorOf(parser, line(2, "{\"question\":\"Q\",\"choices\":[\"a\",\"b\"],\"answer\":\"c\"}"));
        assertThat(notAChoice.reason()).isEqualTo("is not one of the choices");
        LineError twice = errorOf(parser, line(3, "{\"question\":\"Q\",\"choices\":[\"a\",\" a\"],\"answer\":0}"));
        assertThat(twice.field()).isEqualTo("choices[1]");
        assertThat(twice.reason()).isEqualTo("is the same as choices[0]");
        assertThat(errorOf(parser, line(4, "{\"question\":\"Q\",\"choices\":[\"a\"],\"answer\":0}"))
                        .reason())
                .isEqualTo("must have at least two choices");
        assertThat(errorOf(parser, line(5, "{\"question\":\"Q\",\"choices\":[\"a\",3],\"answer\":0}"))
                        .field())
                .isEqualTo("choices[1]");
        assertThat(errorOf(parser, line(6, "{\"question\":\"Q\",\"choices\":[\"a\",\"b\"]}"))
                        .field())
                .isEqualTo("answer");
    }

    @Test
    void declaredFormatIsEnforcedFromTheFirstLine() {
        LineParser chat = new LineParser(DatasetFormat.CHAT, 1000);
        LineError error = errorOf(chat, line(1, "{\"prompt\":\"a\",\"completion\":\"b\"}"));
        assertThat(error.reason()).contains("prompt_completion format but the dataset is chat");
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
