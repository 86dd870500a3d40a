package dev.finetune.dataset.prepare;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.finetune.dataset.dedup.RemovedDuplicate;
import dev.finetune.dataset.format.CanonicalExample;
import dev.finetune.dataset.format.DecompressionLimits;
import dev.finetune.dataset.format.UnreadableInputException;
import dev.finetune.dataset.split.Splitter.Split;
import dev.finetune.events.DatasetFormat;
import dev.finetune.events.DatasetKind;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetPreparationTest {
    /** Whitespace words: enough to check the statistics plumbing. */
    static final TokenCounter WORDS = new TokenCounter() {
        @Override
        public String name() {
            return "words";
        }

        @Override
        public int count(CanonicalExample example) {
            return example.text().split("\\s+").length;
        }
    };

    @TempDir
    Path dir;

    @Test
    void gzipJsonlIsPreparedIntoCanonicalSplitsWithDuplicatesRemoved() throws Exception {
        StringBuilder jsonl = new StringBuilder();
        for (int i = 0; i < 50; i++) {
            jsonl.append("{\"instruction\":\"Name the capital of country number ")
                    .append(i)
                    .append(" in our atlas\",\"output\":\"Capital-")
                    .append(i)
                    .append("\"}\n");
        }
        jsonl.append(
                "{\"instruction\":\"Name the capital of country number 3 in our atlas\",\"output\":\"Capital-3\"}\n");
        jsonl.append("\n");

        PreparationResult result = prepare(gzip(jsonl.toString()), PreparationSettings.defaults(DatasetFormat.AUTO));

        assertThat(result.rejected()).isFalse();
        assertThat(result.format()).isEqualTo(DatasetFormat.ALPACA);
        assertThat(result.kind()).isEqualTo(DatasetKind.SFT);
        assertThat(result.lines()).isEqualTo(52);
        assertThat(result.blankLines()).isEqualTo(1);
        assertThat(result.exactDuplicates()).isEqualTo(1);
        assertThat(result.validExamples()).isEqualTo(50 - result.nearDuplicates());
        List<String> train = Files.readAllLines(result.splits().get(Split.TRAIN).path());
        assertThat(train).isNotEmpty().allSatisfy(line -> assertThat(line)
                .startsWith("{\"messages\":[{\"role\":\"user\""));
        assertThat(result.statistics().splits().get("train").examples()).isEqualTo(train.size());
    }

    @Test
    void labelledCompletionsArePreparedAsAnUnpairedPreferenceDatasetTheLlmReaderAccepts() throws Exception {
        StringBuilder jsonl = new StringBuilder();
        for (int i = 0; i < 40; i++) {
            jsonl.append("{\"prompt\":\"Spell word number ")
                    .append(i)
                    .append(" of the list\",\"completion\":[{\"role\":\"assistant\",\"content\":\"word-")
                    .append(i)
                    .append("\"}],\"label\":")
                    .append(i % 3 != 0)
                    .append("}\n");
        }

        PreparationResult result = prepare(gzip(jsonl.toString()), PreparationSettings.defaults(DatasetFormat.AUTO));

        assertThat(result.rejected()).isFalse();
        assertThat(result.format()).isEqualTo(DatasetFormat.UNPAIRED_PREFERENCE);
        assertThat(result.kind()).isEqualTo(DatasetKind.UNPAIRED_PREFERENCE);
        Path train = result.splits().get(Split.TRAIN).path();
        assertThat(Files.readAllLines(train))
                .isNotEmpty()
                .allSatisfy(
                        line -> assertThat(line)
                                .matches(
                                        "\\{\"prompt\":\\[\\{\"role\":\"user\",\"content\":\"Spell word number \\d+ of the list\"}],"
                                                + "\"completion\":\\[\\{\"role\":\"assistant\",\"content\":\"word-\\d+\"}],\"label\":(true|false)}"));
        assertThat(dev.finetune.llm.train.ChatDatasets.labelled(train))
                .hasSize(Files.readAllLines(train).size());
    }

    @Test
    void theExampleMultipleChoiceSetIsPreparedWithItsChoicesAndTheLlmReaderSeesItsRightAnswers() throws Exception {
        byte[] raw = Files.readAllBytes(Path.of("../examples/data/world-facts-choice.jsonl"));

        PreparationResult result = prepare(raw, PreparationSettings.defaults(DatasetFormat.AUTO));

        assertThat(result.rejected()).isFalse();
        assertThat(result.format()).isEqualTo(DatasetFormat.MULTIPLE_CHOICE);
        assertThat(result.kind()).isEqualTo(DatasetKind.MULTIPLE_CHOICE);
        assertThat(result.invalidLines()).isZero();
        Path train = result.splits().get(Split.TRAIN).path();
        List<String> lines = Files.readAllLines(train);
        assertThat(lines).isNotEmpty().allSatisfy(line -> assertThat(line)
                .matches("\\{\"messages\":\\[\\{\"role\":\"user\",\"content\":\"[^\"]+\"},"
                        + "\\{\"role\":\"assistant\",\"content\":\"[^\"]+\"}],"
                        + "\"choices\":\\[(\"[^\"]+\",){3}\"[^\"]+\"],\"answer\":[0-3]}"));
        // SFT trains on it: the conversations are the questions with their right answers.
        assertThat(dev.finetune.llm.train.ChatDatasets.conversations(train)).hasSize(lines.size());
        assertThat(lines.stream().filter(l -> l.contains("What is the capital of Peru?")))
                .allSatisfy(l -> assertThat(l).contains("{\"role\":\"assistant\",\"content\":\"Lima\"}"));
    }

    @Test
    void tokenizedRowsArePreparedWithExactDuplicatesRemovedAcrossLabelsAndCompletionMask() throws Exception {
        StringBuilder jsonl = new StringBuilder();
        for (int i = 0; i < 40; i++) {
            jsonl.append("{\"input_ids\":[1,").append(10 + i).append(",2,3],\"labels\":[-100,-100,2,3]}\n");
        }
        // The same ids and trained positions spelt with TRL's completion_mask: an exact duplicate of line 1.
        jsonl.append("{\"input_ids\":[1,10,2,3],\"completion_mask\":[0,0,1,1]}\n");
        // One id differs: a different example (no near-duplicate check on ids).
        jsonl.append("{\"input_ids\":[1,10,2,4],\"completion_mask\":[0,0,1,1]}\n");
        jsonl.append("{\"input_ids\":[1,10,2,3],\"labels\":[-100,-100,7,3]}\n");

        PreparationResult result = prepare(bytes(jsonl.toString()), PreparationSettings.defaults(DatasetFormat.AUTO));

        assertThat(result.rejected()).isFalse();
        assertThat(result.format()).isEqualTo(DatasetFormat.TOKENIZED);
        assertThat(result.kind()).isEqualTo(DatasetKind.TOKENIZED);
        assertThat(result.invalidLines()).isEqualTo(1);
        assertThat(result.errors())
                .extracting(Object::toString)
                .containsExactly("line 43, labels[2]: must be -100 (not trained) or input_ids[2] = 2 (got 7)");
        assertThat(result.exactDuplicates()).isEqualTo(1);
        assertThat(result.duplicates()).containsExactly(RemovedDuplicate.exact(41, 1));
        assertThat(result.nearDuplicates()).isZero();
        assertThat(result.validExamples()).isEqualTo(41);
        long written = 0;
        for (Split split : Split.values()) {
            List<String> lines = Files.readAllLines(result.splits().get(split).path());
            written += lines.size();
            assertThat(lines).allSatisfy(line -> assertThat(line)
                    .matches("\\{\"input_ids\":\\[1,\\d+,2,[34]],\"completion_mask\":\\[0,0,1,1]}"));
        }
        assertThat(written).isEqualTo(41);
        assertThat(result.splits().get(Split.TRAIN).examples()).isPositive();
    }

    @Test
    void theExampleTokenizedFileIsPreparedWhole() throws Exception {
        byte[] raw = Files.readAllBytes(Path.of("../examples/data/capitals-tokenized.jsonl"));

        PreparationResult result = prepare(raw, PreparationSettings.defaults(DatasetFormat.AUTO));

        assertThat(result.kind()).isEqualTo(DatasetKind.TOKENIZED);
        assertThat(result.invalidLines()).isZero();
        assertThat(result.exactDuplicates()).isZero();
        assertThat(result.validExamples()).isEqualTo(48);
    }

    @Test
    void theExampleArithmeticPromptsArePreparedWithReferencesThatAreTheRightAnswers() throws Exception {
        byte[] raw = Files.readAllBytes(Path.of("../examples/data/arithmetic-prompts.jsonl"));

        PreparationResult result = prepare(raw, PreparationSettings.defaults(DatasetFormat.AUTO));

        assertThat(result.rejected()).isFalse();
        assertThat(result.format()).isEqualTo(DatasetFormat.PROMPT_COMPLETION);
        assertThat(result.kind()).isEqualTo(DatasetKind.PROMPT);
        assertThat(result.lines()).isEqualTo(82);
        assertThat(result.errors())
                .extracting(Object::toString)
                .containsExactly("line 23, reference: must be a string (a number is written as one: \"42\") (got 42)");
        assertThat(result.duplicates()).containsExactly(RemovedDuplicate.exact(58, 9));
        // Rows of one template with short references are not judged as near duplicates: all 80 stay.
        assertThat(result.nearDuplicates()).isZero();
        assertThat(result.validExamples()).isEqualTo(80);
        java.util.regex.Pattern prepared = java.util.regex.Pattern.compile(
                "\\{\"prompt\":\\[\\{\"role\":\"user\",\"content\":\"What is (\\d+) ([-+*]) (\\d+)\\? "
                        + "Answer with the number only.\"}],\"reference\":\"(-?\\d+)\"}");
        long written = 0;
        for (Split split : Split.values()) {
            for (String line : Files.readAllLines(result.splits().get(split).path())) {
                java.util.regex.Matcher m = prepared.matcher(line);
                assertThat(m.matches()).as(line).isTrue();
                long a = Long.parseLong(m.group(1));
                long b = Long.parseLong(m.group(3));
                long expected =
                        switch (m.group(2)) {
                            case "+" -> a + b;
                            case "-" -> a - b;
                            default -> a * b;
                        };
                assertThat(Long.parseLong(m.group(4))).as(line).isEqualTo(expected);
                written++;
            }
        }
        assertThat(written).isEqualTo(80);
        assertThat(result.splits().get(Split.TRAIN).examples()).isPositive();
        assertThat(result.statistics().splits().get("train").tokens()).isPositive();
    }

    @Test
    void promptsAreNearDuplicatesOnlyWhenTheirLongReferencesAreToo() throws Exception {
        String prompt = "Explain in two sentences how a rainbow forms after a summer storm over the hills";
        String reference = "Sunlight entering each raindrop is refracted, reflected once off the back of the drop "
                + "and refracted again on the way out, and because each colour bends by a slightly different "
                + "angle the white light fans out into the familiar band of colours.";
        String jsonl = "{\"prompt\":\"" + prompt + "\"}\n"
                + "{\"prompt\":\"" + prompt + "!\"}\n" // one character more, no reference: kept
                + "{\"prompt\":\"" + prompt + ".\",\"reference\":\"" + reference + "\"}\n"
                + "{\"prompt\":\"" + prompt + "?\",\"reference\":\"" + reference.replace("colours.", "colors.")
                + "\"}\n";

        PreparationResult result = prepare(bytes(jsonl), PreparationSettings.defaults(DatasetFormat.AUTO));

        assertThat(result.kind()).isEqualTo(DatasetKind.PROMPT);
        assertThat(result.exactDuplicates()).isZero();
        assertThat(result.duplicates()).singleElement().satisfies(d -> {
            assertThat(d.line()).isEqualTo(4);
            assertThat(d.duplicateOf()).isEqualTo(3);
            assertThat(d.kind()).isEqualTo("near");
        });
        assertThat(result.validExamples()).isEqualTo(3);
    }

    @Test
    void badLinesAreDroppedAndReportedWithLineNumbersBelowTheThreshold() throws Exception {
        StringBuilder jsonl = new StringBuilder();
        for (int i = 1; i <= 40; i++) {
            jsonl.append(
                    i == 17
                            ? "{\"prompt\":\"oops\"}\n"
                            : "{\"prompt\":\"question " + i + " about topic " + (i * 7919)
                                    + "\",\"completion\":\"answer " + i + "\"}\n");
        }
        PreparationSettings settings = new PreparationSettings(
                DatasetFormat.AUTO, 1000, 0.05, 1.0, 0.8, 0.1, 0.1, 16, 10, DecompressionLimits.none());

        PreparationResult result = prepare(bytes(jsonl.toString()), settings);

        assertThat(result.rejected()).isFalse();
        assertThat(result.invalidLines()).isEqualTo(1);
        assertThat(result.errors()).singleElement().satisfies(e -> {
            assertThat(e.line()).isEqualTo(17);
            assertThat(e.field()).isEqualTo("completion");
            assertThat(e.reason()).isEqualTo("is required");
        });
        assertThat(result.errorsByReason()).containsEntry("completion: is required", 1L);
        assertThat(result.validExamples()).isEqualTo(39);
    }

    @Test
    void tooManyBadLinesRejectTheDatasetWithTheNumbers() throws Exception {
        String jsonl =
                "{\"prompt\":\"a\",\"completion\":\"b\"}\nnot json\n{\"prompt\":\"c\"}\n{\"prompt\":\"d\",\"completion\":\"e\"}\n";
        PreparationResult result = prepare(bytes(jsonl), PreparationSettings.defaults(DatasetFormat.AUTO));

        assertThat(result.rejection()).isEqualTo("2 of 4 lines (50.0%) are invalid, more than the 5.0% allowed");
        // Counted by the rule each broke, a code from a fixed set, never the message.
        assertThat(result.invalidLinesByRule())
                .containsExactlyInAnyOrderEntriesOf(Map.of("json", 1L, "completion", 1L));
    }

    @Test
    void nearDuplicatesAreRemovedAndCounted() throws Exception {
        String base = "Explain how to rotate the API token of a service account in the admin console step by step";
        String jsonl = "{\"prompt\":\"" + base + "\",\"completion\":\"Open the console and rotate it.\"}\n"
                + "{\"prompt\":\"" + base + "!\",\"completion\":\"Open the console and rotate it.\"}\n"
                + "{\"prompt\":\"Something else entirely about billing cycles\",\"completion\":\"Monthly.\"}\n";
        PreparationResult result = prepare(bytes(jsonl), PreparationSettings.defaults(DatasetFormat.AUTO));

        assertThat(result.nearDuplicates()).isEqualTo(1);
        assertThat(result.validExamples()).isEqualTo(2);
    }

    @Test
    void statisticsCountTruncationAtTheSequenceLength() throws Exception {
        String jsonl = "{\"prompt\":\"one two three four five six\",\"completion\":\"seven eight\"}\n"
                + "{\"prompt\":\"short\",\"completion\":\"reply\"}\n";
        PreparationSettings settings = new PreparationSettings(
                DatasetFormat.AUTO, 1000, 0.05, 1.0, 1.0, 0.0, 0.0, 4, 10, DecompressionLimits.none());

        PreparationResult result = prepare(bytes(jsonl), settings);

        var train = result.statistics().splits().get("train");
        assertThat(train.examples()).isEqualTo(2);
        assertThat(train.truncated()).isEqualTo(1);
        assertThat(train.maxTokens()).isGreaterThan(4);
        assertThat(result.statistics().tokenizer()).isEqualTo("words");
        assertThat(result.statistics().lengthHistogram()).first().satisfies(b -> assertThat(b.examples())
                .isEqualTo(2));
    }

    @Test
    void sameDataInAnotherOrderGivesTheSameSplits() throws Exception {
        StringBuilder forward = new StringBuilder();
        StringBuilder backward = new StringBuilder();
        for (int i = 0; i < 30; i++) {
            forward.append("{\"prompt\":\"q")
                    .append(i)
                    .append(" ")
                    .append(i * 104729)
                    .append("\",\"completion\":\"a\"}\n");
            int j = 29 - i;
            backward.append("{\"prompt\":\"q")
                    .append(j)
                    .append(" ")
                    .append(j * 104729)
                    .append("\",\"completion\":\"a\"}\n");
        }
        PreparationSettings settings = new PreparationSettings(
                DatasetFormat.AUTO, 1000, 0.05, 1.0, 0.6, 0.2, 0.2, 16, 10, DecompressionLimits.none());
        PreparationResult a = new DatasetPreparation(settings, WORDS)
                .prepare(new ByteArrayInputStream(bytes(forward.toString())), dir.resolve("a"));
        PreparationResult b = new DatasetPreparation(settings, WORDS)
                .prepare(new ByteArrayInputStream(bytes(backward.toString())), dir.resolve("b"));

        for (Split split : Split.values()) {
            assertThat(Files.readAllLines(b.splits().get(split).path()))
                    .containsExactlyInAnyOrderElementsOf(
                            Files.readAllLines(a.splits().get(split).path()));
        }
    }

    @Test
    void templatedRowsThatDifferInAShortSlotAndAnswerAreAllKept() throws Exception {
        String template = "You are a careful geography tutor. Answer with the name of the capital city only, "
                + "in one or two words, without any explanation. Question: what is the capital of ";
        StringBuilder jsonl = new StringBuilder();
        for (int i = 0; i < 150; i++) {
            jsonl.append("{\"instruction\":\"")
                    .append(template)
                    .append("Country-")
                    .append(i);
            jsonl.append("?\",\"output\":\"");
            jsonl.append(i % 2 == 0 ? "City-" + i : "The capital of Country-" + i + " is City-" + i + ".");
            jsonl.append("\"}\n");
        }

        PreparationResult result = prepare(bytes(jsonl.toString()), PreparationSettings.defaults(DatasetFormat.AUTO));

        assertThat(result.duplicates()).isEmpty();
        assertThat(result.nearDuplicates()).isZero();
        assertThat(result.validExamples()).isEqualTo(150);
    }

    @Test
    void oneWordChangedInALongAnswerIsANearDuplicateReportedWithItsOriginal() throws Exception {
        String answer = "To rotate the token, open the admin console, choose Service accounts, select the account, "
                + "press Rotate token and confirm. The old token stays valid for thirty minutes so running jobs "
                + "can finish; update every client with the new token within that time.";
        String jsonl = line("How do I rotate the API token of a service account?", answer)
                + line("Which regions does the service run in?", "Frankfurt, Dublin and Virginia, with more to come.")
                + line("How do I rotate the API token of a service account?", answer.replace("thirty", "sixty"))
                + line("How do I rotate the API token of a service account?", answer); // exact

        PreparationResult result = prepare(bytes(jsonl), PreparationSettings.defaults(DatasetFormat.AUTO));

        assertThat(result.nearDuplicates()).isEqualTo(1);
        assertThat(result.exactDuplicates()).isEqualTo(1);
        assertThat(result.duplicates()).hasSize(2);
        assertThat(result.duplicates().get(0)).satisfies(d -> {
            assertThat(d.line()).isEqualTo(3);
            assertThat(d.duplicateOf()).isEqualTo(1);
            assertThat(d.kind()).isEqualTo("near");
            assertThat(d.similarity()).isBetween(0.85, 1.0);
        });
        assertThat(result.duplicates().get(1)).isEqualTo(RemovedDuplicate.exact(4, 1));
    }

    @Test
    void theSameLongAnswerToADifferentQuestionIsKept() throws Exception {
        String answer = "Open the admin console, choose Service accounts, select the account and follow the steps "
                + "shown there; the console explains each option as you go.";
        String jsonl = line("How do I rotate the API token of a service account?", answer)
                + line("How do I delete a service account that is no longer used?", answer);

        PreparationResult result = prepare(bytes(jsonl), PreparationSettings.defaults(DatasetFormat.AUTO));

        assertThat(result.nearDuplicates()).isZero();
        assertThat(result.validExamples()).isEqualTo(2);
    }

    @Test
    void truncatedGzipIsUnreadableInputNamingTheLine() throws Exception {
        byte[] whole = gzip(line("q", "a").repeat(2000));
        byte[] truncated = java.util.Arrays.copyOf(whole, whole.length / 2);

        assertThatThrownBy(() -> prepare(truncated, PreparationSettings.defaults(DatasetFormat.AUTO)))
                .isInstanceOf(UnreadableInputException.class)
                .hasMessageStartingWith("the gzip data is corrupt or truncated at line ");
    }

    @Test
    void gzipPastTheDecompressionLimitsIsUnreadableInputNamingTheLimit() throws Exception {
        byte[] zeros = gzip(" ".repeat(8 << 20)); // 8 MiB of blanks: a ratio of ~1000
        PreparationSettings settings = new PreparationSettings(
                DatasetFormat.AUTO, 1000, 0.05, 1.0, 0.8, 0.1, 0.1, 16, 10, new DecompressionLimits(1L << 30, 100));

        assertThatThrownBy(() -> prepare(zeros, settings))
                .isInstanceOf(UnreadableInputException.class)
                .hasMessageContaining("expands more than 100 times")
                .hasMessageContaining("pipeline.dataset.max-compression-ratio (100)");

        PreparationSettings small = new PreparationSettings(
                DatasetFormat.AUTO, 1000, 0.05, 1.0, 0.8, 0.1, 0.1, 16, 10, new DecompressionLimits(1 << 20, 10_000));
        assertThatThrownBy(() -> prepare(zeros, small))
                .isInstanceOf(UnreadableInputException.class)
                .hasMessageContaining("more than 1048576 bytes")
                .hasMessageContaining("pipeline.dataset.max-decompressed-bytes (1048576)");
    }

    private static String line(String instruction, String output) {
        return "{\"instruction\":\"" + instruction + "\",\"output\":\"" + output + "\"}\n";
    }

    private PreparationResult prepare(byte[] raw, PreparationSettings settings) throws Exception {
        return new DatasetPreparation(settings, WORDS).prepare(new ByteArrayInputStream(raw), dir);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] gzip(String s) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(bytes(s));
        }
        return out.toByteArray();
    }
}
