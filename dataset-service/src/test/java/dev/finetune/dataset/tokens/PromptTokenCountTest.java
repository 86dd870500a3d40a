package dev.finetune.dataset.tokens;

import static org.assertj.core.api.Assertions.assertThat;

import dev.finetune.dataset.format.CanonicalExample;
import dev.finetune.dataset.format.Message;
import dev.finetune.llm.tokenizer.ChatMessage;
import dev.finetune.llm.tokenizer.ChatTemplate;
import dev.finetune.llm.tokenizer.TinyTokenizerWriter;
import dev.finetune.llm.tokenizer.Tokenizer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A prompt's token count is the prompt rendered with the chat template, plus its reference as the
 * assistant turn that would answer it: what a sampled completion of that length costs.
 */
class PromptTokenCountTest {
    private static final String SYSTEM = "Answer with the number only.";
    private static final String QUESTION = "What is 17 + 25?";
    private static final String REFERENCE = "42";

    @TempDir
    Path dir;

    @Test
    void theModelCounterCountsThePromptTurnsAndTheReferenceAsAnAnswer() throws Exception {
        TinyTokenizerWriter.write(dir);
        try (Tokenizer tokenizer = Tokenizer.load(dir)) {
            ModelTokenCounter counter = new ModelTokenCounter("tiny", tokenizer);
            ChatTemplate template = tokenizer.chatTemplate().orElseThrow();
            CanonicalExample withReference = CanonicalExample.prompt(prompt(), REFERENCE);
            CanonicalExample without = CanonicalExample.prompt(prompt(), "");

            int[] counts = counter.countAll(List.of(withReference, without));

            // ChatML wraps every turn alike, so the counter's per-role measure is exact here.
            int answered = tokenizer.encode(
                            template.render(
                                    List.of(
                                            ChatMessage.system(SYSTEM),
                                            ChatMessage.user(QUESTION),
                                            ChatMessage.assistant(REFERENCE)),
                                    false),
                            false)
                    .length;
            int asked = tokenizer.encode(
                            template.render(List.of(ChatMessage.system(SYSTEM), ChatMessage.user(QUESTION)), false),
                            false)
                    .length;
            assertThat(counts).containsExactly(answered, asked);
            assertThat(answered).isGreaterThan(asked);
        }
    }

    @Test
    void theApproximateCounterCountsTheReferenceAsAnAssistantTurn() {
        String text = "system\u0000" + SYSTEM + "\u0001user\u0000" + QUESTION + "\u0001assistant\u0000" + REFERENCE
                + "\u0001";
        int bytes = text.getBytes(StandardCharsets.UTF_8).length;

        int count = new ApproximateTokenCounter().count(CanonicalExample.prompt(prompt(), REFERENCE));

        assertThat(count).isEqualTo((bytes + 3) / 4);
    }

    private static List<Message> prompt() {
        return List.of(new Message("system", SYSTEM), new Message("user", QUESTION));
    }
}
