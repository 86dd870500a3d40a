package dev.finetune.dataset.format;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.finetune.dataset.validation.InvalidLineException;
import dev.finetune.dataset.validation.LineError;
import dev.finetune.events.DatasetFormat;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Thousands of generated and mutated JSONL lines through {@link JsonlLines} and {@link LineParser},
 * for every declared format: each line is accepted as a well-formed example or refused with a
 * reason (and a field path when a field is at fault); no other exception escapes. Seeded, so a
 * failure names the seed and line that reproduce it.
 */
class LineParserFuzzTest {
    private static final long SEED = 0x2024_0620L;
    /**
     * About 500 lines per seed: a format with one seed gets ~500 lines of it, of which the unmutated
     * seventh are accepted, comfortably above the 50 that {@link #check} asks for.
     */
    private static final int LINES_PER_FORMAT = 6000;
    /** A field path as the parser names them: {@code output}, {@code messages[2].role}, {@code chosen[0]}. */
    private static final String FIELD_PATH = "[a-z_]+(\\[\\d+])?(\\.[a-z_]+)?";

    private static final String[] SEEDS = {
        "{\"instruction\":\"Name a colour\",\"input\":\"\",\"output\":\"Blue\"}",
        "{\"prompt\":\"2+2?\",\"completion\":\"4\"}",
        "{\"messages\":[{\"role\":\"system\",\"content\":\"Be brief\"},{\"role\":\"user\",\"content\":\"Hi\"},"
                + "{\"role\":\"assistant\",\"content\":\"Hello\"}]}",
        "{\"prompt\":\"Pick one\",\"chosen\":\"A\",\"rejected\":\"B\"}",
        "{\"chosen\":[{\"role\":\"user\",\"content\":\"Q\"},{\"role\":\"assistant\",\"content\":\"good\"}],"
                + "\"rejected\":[{\"role\":\"user\",\"content\":\"Q\"},{\"role\":\"assistant\",\"content\":\"bad\"}]}",
        "{\"prompt\":[{\"role\":\"user\",\"content\":\"Q\"}],\"chosen\":[{\"role\":\"assistant\",\"content\":\"a\"}],"
                + "\"rejected\":[{\"role\":\"assistant\",\"content\":\"b\"}]}",
        "{\"prompt\":\"Is it blue?\",\"completion\":\"Yes\",\"label\":true}",
        "{\"question\":\"Capital of Peru?\",\"choices\":[\"Quito\",\"Lima\"],\"answer\":1}",
        "{\"system\":\"Be brief\",\"conversations\":[{\"from\":\"human\",\"value\":\"Hi\"},"
                + "{\"from\":\"gpt\",\"value\":\"Hello\"}]}",
        "{\"prompt\":[{\"role\":\"user\",\"content\":\"Q\"}],\"completion\":[{\"role\":\"assistant\",\"content\":\"a\"}],"
                + "\"label\":false}",
        "{\"input_ids\":[1,15,16,2],\"labels\":[-100,-100,16,2]}",
        "{\"input_ids\":[1,15,16,2],\"completion_mask\":[0,0,1,1],\"attention_mask\":[1,1,1,1]}",
    };
    /** Prompt-only lines, each form: a dataset of prompts is fuzzed from these (see the second test). */
    private static final String[] PROMPT_SEEDS = {
        "{\"prompt\":\"What is 2+2?\",\"reference\":\"4\"}",
        "{\"prompt\":[{\"role\":\"system\",\"content\":\"Be brief\"},{\"role\":\"user\",\"content\":\"Q\"}],"
                + "\"solution\":\"A\"}",
        "{\"messages\":[{\"role\":\"user\",\"content\":\"Q\"},{\"role\":\"assistant\",\"content\":\"a\"},"
                + "{\"role\":\"user\",\"content\":\"Q2\"}],\"reference\":\"A\"}",
    };

    private static final String[] FRAGMENTS = {
        "{",
        "}",
        "[",
        "]",
        ",",
        ":",
        "\"",
        "\\",
        "\\u0000",
        "\\ud800",
        "null",
        "true",
        "1e999",
        "-0",
        "[]",
        "{}",
        "\"role\"",
        "\"content\"",
        "\"messages\"",
        "\"chosen\"",
        "\"rejected\"",
        "\"prompt\"",
        "\"completion\"",
        "\"label\"",
        "\"conversations\"",
        "\"question\"",
        "\"choices\"",
        "\"answer\"",
        "\"reference\"",
        "\"solution\"",
        "\"from\"",
        "\"value\"",
        "\"human\"",
        "\"gpt\"",
        "false",
        "\"system\"",
        "\"user\"",
        "\"assistant\"",
        "\"tool\"",
        "   ",
        "\t",
        "\r",
        "\u00e9",
        "\ud83d\ude00",
        "[[[[[[[[",
        "]]]]]]]]"
    };

    @Test
    void everyGeneratedOrMutatedLineIsAcceptedOrRefusedWithAReason() throws Exception {
        SplittableRandom random = new SplittableRandom(SEED);
        for (DatasetFormat format : DatasetFormat.values()) {
            List<byte[]> lines = new ArrayList<>();
            for (int i = 0; i < LINES_PER_FORMAT; i++) {
                lines.add(line(random));
            }
            check(format, lines);
        }
    }

    /**
     * The same for datasets of prompts: a valid prompt line first (it makes the dataset one), then
     * generated and mutated prompt lines, for each format whose lines can be prompts.
     */
    @Test
    void everyLineOfADatasetOfPromptsIsAcceptedAsAPromptOrRefusedWithAReason() throws Exception {
        SplittableRandom random = new SplittableRandom(SEED);
        for (DatasetFormat format : List.of(DatasetFormat.AUTO, DatasetFormat.PROMPT_COMPLETION, DatasetFormat.CHAT)) {
            List<byte[]> lines = new ArrayList<>();
            lines.add(PROMPT_SEEDS[format == DatasetFormat.CHAT ? 2 : 0].getBytes(StandardCharsets.UTF_8));
            for (int i = 0; i < LINES_PER_FORMAT; i++) {
                lines.add(line(random, PROMPT_SEEDS));
            }
            check(format, lines);
        }
    }

    private static void check(DatasetFormat format, List<byte[]> lines) throws Exception {
        ByteArrayOutputStream file = new ByteArrayOutputStream();
        for (byte[] line : lines) {
            file.write(line);
            file.write('\n');
        }
        LineParser parser = new LineParser(format, 10_000);
        int accepted = 0;
        int refused = 0;
        try (JsonlLines reader = new JsonlLines(new ByteArrayInputStream(file.toByteArray()))) {
            for (JsonlLines.Line line = reader.next(); line != null; line = reader.next()) {
                if (line.isBlank()) {
                    continue;
                }
                String shown = new String(line.bytes(), StandardCharsets.UTF_8);
                try {
                    CanonicalExample example = parser.parse(line);
                    assertWellFormed(example, shown);
                    accepted++;
                } catch (InvalidLineException e) {
                    LineError error = e.error();
                    assertThat(error.line()).as(shown).isEqualTo(line.number());
                    assertThat(error.reason()).as(shown).isNotBlank();
                    if (error.field() != null) {
                        assertThat(error.field()).as(shown).matches(FIELD_PATH);
                    }
                    refused++;
                } catch (RuntimeException e) {
                    fail(
                            "seed " + SEED + ", format " + format + ", line " + line.number() + " escaped with " + e
                                    + ": " + shown,
                            e);
                }
            }
        }
        // The generator must exercise both outcomes, or the test proves nothing.
        assertThat(accepted).as("accepted lines for %s", format).isGreaterThan(50);
        assertThat(refused).as("refused lines for %s", format).isGreaterThan(50);
    }

    private static void assertWellFormed(CanonicalExample example, String shown) {
        if (example.tokens() != null) {
            assertThat(example.messages()).as(shown).isEmpty();
            assertThat(java.util.Arrays.stream(example.tokens().inputIds())
                            .min()
                            .orElse(-1))
                    .as(shown)
                    .isNotNegative();
            assertThat(example.tokens().trained())
                    .as(shown)
                    .hasSameSizeAs(example.tokens().inputIds());
            assertThat(example.tokens().trainedCount()).as(shown).isPositive();
            return;
        }
        assertThat(example.messages()).as(shown).isNotEmpty();
        assertThat(example.messages()).as(shown).allSatisfy(m -> {
            assertThat(m.role()).isIn("system", "user", "assistant");
            assertThat(m.content()).isNotEmpty();
        });
        if (example.isPromptOnly()) {
            assertThat(example.chosen()).as(shown).isNull();
            assertThat(example.messages().get(example.messages().size() - 1).role())
                    .as(shown)
                    .isEqualTo("user");
            assertThat(example.reference())
                    .as(shown)
                    .isEqualTo(example.reference().strip());
        } else if (example.label() != null) {
            assertThat(example.chosen()).as(shown).isNotEmpty();
            assertThat(example.rejected()).as(shown).isEmpty();
        } else if (example.isPreference()) {
            assertThat(example.chosen()).as(shown).isNotEmpty();
            assertThat(example.rejected()).as(shown).isNotEmpty().isNotEqualTo(example.chosen());
        } else {
            assertThat(example.messages().get(example.messages().size() - 1).role())
                    .as(shown)
                    .isEqualTo("assistant");
        }
        if (example.choices() != null) {
            assertThat(example.choices()).as(shown).hasSizeGreaterThan(1).doesNotHaveDuplicates();
            assertThat(example.messages().get(1).content())
                    .as(shown)
                    .isEqualTo(example.choices().get(example.answer()));
        }
    }

    /** A valid seed line, then 0-6 mutations at the text or byte level. */
    private static byte[] line(SplittableRandom random) {
        return line(random, SEEDS);
    }

    private static byte[] line(SplittableRandom random, String[] seeds) {
        String text = seeds[random.nextInt(seeds.length)];
        int mutations = random.nextInt(7);
        for (int m = 0; m < mutations; m++) {
            text = mutate(text, random);
        }
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        if (random.nextInt(10) == 0) { // raw bytes: invalid UTF-8, NUL, a stray newline-free control byte
            bytes = bytes.clone();
            if (bytes.length > 0) {
                int at = random.nextInt(bytes.length);
                bytes[at] = (byte) random.nextInt(256);
                if (bytes[at] == '\n') {
                    bytes[at] = (byte) 0xff;
                }
            }
        }
        return bytes;
    }

    private static String mutate(String text, SplittableRandom random) {
        if (text.isEmpty()) {
            return FRAGMENTS[random.nextInt(FRAGMENTS.length)];
        }
        int at = random.nextInt(text.length() + 1);
        return switch (random.nextInt(8)) {
            case 0 -> text.substring(0, at) + FRAGMENTS[random.nextInt(FRAGMENTS.length)] + text.substring(at);
            case 1 -> at < text.length() ? text.substring(0, at) + text.substring(at + 1) : text; // delete a char
            case 2 -> text.substring(0, at); // truncate
            case 3 -> text.replace("\"user\"", "\"assistant\""); // role order
            case 4 -> text.replaceFirst("\"[^\"]{1,12}\"", "\"\""); // empty a string or a key
            case 5 -> text.replaceFirst(
                    ":\"[^\"]*\"", ":" + new String[] {"1", "null", "[]", "{}", "true"}[random.nextInt(5)]);
            case 6 -> text.replaceFirst(
                    "\"(instruction|output|prompt|completion|chosen|rejected|messages|reference)\"", "\"x\"");
            default -> text + text; // two objects on one line
        };
    }
}
