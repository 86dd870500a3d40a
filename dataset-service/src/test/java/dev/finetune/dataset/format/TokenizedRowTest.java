package dev.finetune.dataset.format;

import static org.assertj.core.api.Assertions.assertThat;

import dev.finetune.dataset.validation.InvalidLineException;
import dev.finetune.dataset.validation.LineError;
import dev.finetune.events.DatasetFormat;
import dev.finetune.events.DatasetKind;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Pre-tokenized lines (issue 18 item 5): HF's labels or TRL's completion_mask, each bad case named. */
class TokenizedRowTest {
    private final LineParser auto = new LineParser(DatasetFormat.AUTO, 1000);

    @Test
    void labelsAndCompletionMaskOfTheSameExampleGiveTheSameRow() throws Exception {
        CanonicalExample labels = auto.parse(
                line(1, "{\"input_ids\":[5,6,7,8],\"labels\":[-100,-100,7,8],\"attention_mask\":[1,1,1,1]}"));
        CanonicalExample mask = new LineParser(DatasetFormat.AUTO, 1000)
                .parse(line(1, "{\"input_ids\":[5,6,7,8],\"completion_mask\":[0,0,1,1]}"));

        assertThat(auto.format()).isEqualTo(DatasetFormat.TOKENIZED);
        assertThat(labels.kind()).isEqualTo(DatasetKind.TOKENIZED);
        assertThat(labels.tokens().inputIds()).containsExactly(5, 6, 7, 8);
        assertThat(labels.tokens().trained()).containsExactly(false, false, true, true);
        assertThat(mask.tokens().inputIds()).containsExactly(labels.tokens().inputIds());
        assertThat(mask.tokens().trained()).containsExactly(labels.tokens().trained());
    }

    @Test
    void aLabelThatIsNeitherIgnoredNorTheInputIdNamesLinePositionAndBothValues() {
        LineError error = errorOf(auto, line(7, "{\"input_ids\":[5,6,7],\"labels\":[-100,6,9]}"));
        assertThat(error.line()).isEqualTo(7);
        assertThat(error.field()).isEqualTo("labels[2]");
        assertThat(error.reason()).isEqualTo("must be -100 (not trained) or input_ids[2] = 7");
        assertThat(error.value()).isEqualTo("9");
    }

    @Test
    void eachBadRowIsReportedWithItsFieldAndValue() {
        assertError(
                "{\"input_ids\":[5,-1,7],\"labels\":[-100,-1,7]}",
                "input_ids[1]",
                "must be a non-negative token id",
                "-1");
        assertError("{\"input_ids\":[5,6.5],\"completion_mask\":[0,1]}", "input_ids[1]", "must be an integer", "6.5");
        assertError(
                "{\"input_ids\":[5,\"6\"],\"completion_mask\":[0,1]}", "input_ids[1]", "must be an integer", "\"6\"");
        assertError("{\"input_ids\":[],\"completion_mask\":[]}", "input_ids", "must not be empty", null);
        assertError(
                "{\"input_ids\":\"5 6\",\"completion_mask\":[0,1]}",
                "input_ids",
                "must be a list of integers",
                "string");
        assertError(
                "{\"input_ids\":[5,6,7],\"completion_mask\":[0,1]}",
                "completion_mask",
                "must have as many entries as input_ids (3)",
                "2");
        assertError("{\"input_ids\":[5,6],\"completion_mask\":[0,2]}", "completion_mask[1]", "must be 0 or 1", "2");
        assertError("{\"input_ids\":[5,6],\"completion_mask\":[0,0]}", "completion_mask", "trains no position", null);
        assertError("{\"input_ids\":[5,6],\"labels\":[-100,-100]}", "labels", "trains no position", null);
        assertError(
                "{\"input_ids\":[5],\"labels\":[5]}",
                "labels",
                "trains only position 0, which has no token before it to predict it from",
                null);
        assertError(
                "{\"input_ids\":[5,6,0],\"completion_mask\":[0,1,1],\"attention_mask\":[1,1,0]}",
                "attention_mask[2]",
                "must be 1: padding does not belong in a dataset row (remove padded positions)",
                "0");
        assertError(
                "{\"input_ids\":[5,6],\"labels\":[-100,6],\"completion_mask\":[0,1]}",
                "completion_mask",
                "give labels or completion_mask, not both",
                null);
        assertError(
                "{\"input_ids\":[5,6]}",
                "labels",
                "is required (or completion_mask): which positions are trained",
                null);
    }

    @Test
    void aTextLineInATokenizedDatasetIsRefusedAsAnotherFormat() throws Exception {
        auto.parse(line(1, "{\"input_ids\":[5,6],\"completion_mask\":[0,1]}"));
        LineError error = errorOf(auto, line(2, "{\"prompt\":\"a\",\"completion\":\"b\"}"));
        assertThat(error.line()).isEqualTo(2);
        assertThat(error.reason())
                .isEqualTo("line has the fields of the prompt_completion format but the dataset is tokenized");

        LineParser chat = new LineParser(DatasetFormat.AUTO, 1000);
        chat.parse(line(
                1,
                "{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"},{\"role\":\"assistant\",\"content\":\"Yo\"}]}"));
        assertThat(errorOf(chat, line(2, "{\"input_ids\":[5,6],\"completion_mask\":[0,1]}"))
                        .reason())
                .isEqualTo("line has the fields of the tokenized format but the dataset is chat");
    }

    private static void assertError(String json, String field, String reason, String value) {
        LineError error = errorOf(new LineParser(DatasetFormat.TOKENIZED, 1000), line(3, json));
        assertThat(error.line()).as(json).isEqualTo(3);
        assertThat(error.field()).as(json).isEqualTo(field);
        assertThat(error.reason()).as(json).isEqualTo(reason);
        assertThat(error.value()).as(json).isEqualTo(value);
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
        throw new AssertionError("line " + line.number() + " was accepted");
    }
}
