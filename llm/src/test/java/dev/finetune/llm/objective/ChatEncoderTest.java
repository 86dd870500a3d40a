package dev.finetune.llm.objective;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.finetune.llm.tokenizer.ChatMessage;
import dev.finetune.llm.tokenizer.TinyTokenizerWriter;
import dev.finetune.llm.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The assistant's turns are found by rendering the chat template prefix by prefix. */
class ChatEncoderTest {
    @TempDir
    Path dir;

    private static final List<ChatMessage> TWO_TURNS = List.of(
            ChatMessage.system("Answer briefly."),
            ChatMessage.user("Capital of France?"),
            ChatMessage.assistant("Paris"),
            ChatMessage.user("And of Italy?"),
            ChatMessage.assistant("Rome"));

    @Test
    void onlyTheAssistantTurnsWithTheirEndOfTurnTokensAreTargets() throws IOException {
        TinyTokenizerWriter.write(dir);
        try (Tokenizer tokenizer = Tokenizer.load(dir)) {
            TrainingSequence sequence = new ChatEncoder(tokenizer, Map.of())
                    .sft(TWO_TURNS, true, 1024)
                    .orElseThrow();

            assertThat(decode(tokenizer, sequence.ids(), null))
                    .isEqualTo(tokenizer.chatTemplate().orElseThrow().render(TWO_TURNS, false));
            assertThat(spans(tokenizer, sequence)).containsExactly("Paris<|im_end|>\n", "Rome<|im_end|>\n");
        }
    }

    @Test
    void turnsBeforeTheFirstScoredMessageAreContextOnly() throws IOException {
        TinyTokenizerWriter.write(dir);
        try (Tokenizer tokenizer = Tokenizer.load(dir)) {
            ChatEncoder encoder = new ChatEncoder(tokenizer, Map.of());
            // Messages 1-2 are a worked example put before the question (message 3).
            TrainingSequence sequence = encoder.sftFrom(TWO_TURNS, 3, 1024).orElseThrow();

            assertThat(decode(tokenizer, sequence.ids(), null))
                    .isEqualTo(tokenizer.chatTemplate().orElseThrow().render(TWO_TURNS, false));
            assertThat(spans(tokenizer, sequence)).containsExactly("Rome<|im_end|>\n");
            assertThat(encoder.sftFrom(TWO_TURNS, 0, 1024).orElseThrow().targets())
                    .containsExactly(
                            encoder.sft(TWO_TURNS, true, 1024).orElseThrow().targets());
            assertThat(encoder.sftFrom(TWO_TURNS, 5, 1024))
                    .as("nothing left to score")
                    .isEmpty();
            assertThat(encoder.length(TWO_TURNS, false)).isEqualTo(sequence.length());
        }
    }

    @Test
    void qwen3sThinkBlockOnTheLastTurnDoesNotHideEarlierAssistantTurns() throws IOException {
        // Qwen3 renders the last assistant turn with an empty think block, earlier ones without.
        try (InputStream gz = new GZIPInputStream(resource("tokenizer.json.gz"));
                InputStream config = resource("tokenizer_config.json")) {
            Files.copy(gz, dir.resolve("tokenizer.json"));
            Files.copy(config, dir.resolve("tokenizer_config.json"));
        }
        try (Tokenizer tokenizer = Tokenizer.load(dir)) {
            TrainingSequence sequence = new ChatEncoder(tokenizer, Map.of())
                    .sft(TWO_TURNS, true, 1024)
                    .orElseThrow();

            assertThat(spans(tokenizer, sequence))
                    .containsExactly("Paris<|im_end|>", "<think>\n\n</think>\n\nRome<|im_end|>\n");
        }
    }

    private static InputStream resource(String name) throws IOException {
        InputStream in = ChatEncoderTest.class.getResourceAsStream("/tokenizers/qwen3/" + name);
        if (in == null) {
            throw new IOException("missing test resource " + name);
        }
        return in;
    }

    @Test
    void withoutAssistantOnlyLossEveryTokenButTheFirstIsATarget() throws IOException {
        TinyTokenizerWriter.write(dir);
        try (Tokenizer tokenizer = Tokenizer.load(dir)) {
            TrainingSequence sequence = new ChatEncoder(tokenizer, Map.of())
                    .sft(TWO_TURNS, false, 1024)
                    .orElseThrow();

            assertThat(sequence.targets()[0]).isFalse();
            assertThat(sequence.targetCount()).isEqualTo(sequence.length() - 1);
        }
    }

    @Test
    void truncationKeepsTheStartAndAnExampleLeftWithoutTargetsIsDropped() throws IOException {
        TinyTokenizerWriter.write(dir);
        try (Tokenizer tokenizer = Tokenizer.load(dir)) {
            ChatEncoder encoder = new ChatEncoder(tokenizer, Map.of());
            TrainingSequence full = encoder.sft(TWO_TURNS, true, 1024).orElseThrow();
            int firstTarget = indexOfFirstTarget(full);

            TrainingSequence cut = encoder.sft(TWO_TURNS, true, firstTarget + 2).orElseThrow();
            assertThat(cut.ids()).containsExactly(java.util.Arrays.copyOf(full.ids(), firstTarget + 2));
            assertThat(cut.targetCount()).isEqualTo(2);
            assertThat(encoder.sft(TWO_TURNS, true, firstTarget)).isEmpty();
        }
    }

    @Test
    void preferencePairSplitsThePromptFromBothCompletions() throws IOException {
        TinyTokenizerWriter.write(dir);
        try (Tokenizer tokenizer = Tokenizer.load(dir)) {
            PreferencePair pair = new ChatEncoder(tokenizer, Map.of())
                    .preference(
                            List.of(ChatMessage.user("Capital of France?")),
                            List.of(ChatMessage.assistant("Paris")),
                            List.of(ChatMessage.assistant("Lyon")),
                            512,
                            1024);

            assertThat(decode(tokenizer, pair.prompt(), null))
                    .endsWith("Capital of France?<|im_end|>\n<|im_start|>assistant\n");
            assertThat(decode(tokenizer, pair.chosen(), null)).isEqualTo("Paris<|im_end|>\n");
            assertThat(decode(tokenizer, pair.rejected(), null)).isEqualTo("Lyon<|im_end|>\n");

            PreferencePair shortPrompt = new ChatEncoder(tokenizer, Map.of())
                    .preference(
                            List.of(ChatMessage.user("Capital of France?")),
                            List.of(ChatMessage.assistant("Paris")),
                            List.of(ChatMessage.assistant("Lyon")),
                            3,
                            5);
            assertThat(shortPrompt.prompt())
                    .containsExactly(java.util.Arrays.copyOfRange(
                            pair.prompt(), pair.prompt().length - 3, pair.prompt().length));
            assertThat(shortPrompt.chosen()).hasSize(2);
        }
    }

    @Test
    void aTemplateThatRewritesEarlierTurnsIsReportedNotGuessed() throws IOException {
        TinyTokenizerWriter.Written written = TinyTokenizerWriter.write(dir);
        ObjectMapper json = new ObjectMapper();
        ObjectNode config = (ObjectNode) json.readTree(written.tokenizerConfig().toFile());
        // The header counts the turns, so every prefix renders a different first line.
        config.put("chat_template", "turns: {{ messages|length }}\n" + TinyTokenizerWriter.CHATML_TEMPLATE);
        json.writeValue(written.tokenizerConfig().toFile(), config);
        try (Tokenizer tokenizer = Tokenizer.load(dir)) {
            ChatEncoder encoder = new ChatEncoder(tokenizer, Map.of());
            assertThatThrownBy(() -> encoder.sft(TWO_TURNS, true, 1024))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("message 2 (assistant)")
                    .hasMessageContaining("assistant_only_loss: false");
            assertThat(encoder.sft(TWO_TURNS, false, 1024)).isPresent();
        }
    }

    /** The text of each maximal run of target tokens. */
    private static List<String> spans(Tokenizer tokenizer, TrainingSequence sequence) {
        List<String> spans = new ArrayList<>();
        int t = 0;
        while (t < sequence.length()) {
            if (!sequence.targets()[t]) {
                t++;
                continue;
            }
            int start = t;
            while (t < sequence.length() && sequence.targets()[t]) {
                t++;
            }
            spans.add(decode(tokenizer, sequence.ids(), new int[] {start, t}));
        }
        return spans;
    }

    private static String decode(Tokenizer tokenizer, long[] ids, int[] range) {
        int from = range == null ? 0 : range[0];
        int to = range == null ? ids.length : range[1];
        int[] slice = new int[to - from];
        for (int i = from; i < to; i++) {
            slice[i - from] = (int) ids[i];
        }
        return tokenizer.decode(slice, false);
    }

    private static int indexOfFirstTarget(TrainingSequence sequence) {
        for (int t = 0; t < sequence.length(); t++) {
            if (sequence.targets()[t]) {
                return t;
            }
        }
        throw new AssertionError("no target");
    }
}
