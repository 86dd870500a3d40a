package dev.finetune.llm.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.finetune.llm.tokenizer.ChatMessage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChatDatasetsTest {
    @TempDir
    Path dir;

    @Test
    void conversationsAndPreferencesAreReadSkippingBlankLines() throws IOException {
        Path sft = write(
                "sft.jsonl",
                """
                {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}], "id": 7}

                {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "2+2?"},\
                 {"role": "assistant", "content": "4"}]}
                """);
        assertThat(ChatDatasets.conversations(sft))
                .containsExactly(
                        List.of(ChatMessage.user("Hi"), ChatMessage.assistant("Hello")),
                        List.of(ChatMessage.system("Be brief."), ChatMessage.user("2+2?"), ChatMessage.assistant("4")));

        Path dpo = write(
                "dpo.jsonl",
                """
                {"prompt": [{"role": "user", "content": "Hi"}], "chosen": [{"role": "assistant", "content": "Hello"}],\
                 "rejected": "Go away"}
                """);
        assertThat(ChatDatasets.preferences(dpo))
                .containsExactly(new ChatDatasets.Preference(
                        List.of(ChatMessage.user("Hi")),
                        List.of(ChatMessage.assistant("Hello")),
                        List.of(ChatMessage.assistant("Go away"))));
    }

    @Test
    void labelledCompletionsAreReadWithTheirLabelAndABadLabelIsReportedWithItsLine() throws IOException {
        Path kto = write(
                "kto.jsonl",
                """
                {"prompt": [{"role": "user", "content": "Hi"}], "completion": [{"role": "assistant", "content": "Hello"}], "label": true}
                {"prompt": "Hi", "completion": "Go away", "label": false}
                """);
        assertThat(ChatDatasets.labelled(kto))
                .containsExactly(
                        new ChatDatasets.Labelled(
                                List.of(ChatMessage.user("Hi")), List.of(ChatMessage.assistant("Hello")), true),
                        new ChatDatasets.Labelled(
                                List.of(ChatMessage.user("Hi")), List.of(ChatMessage.assistant("Go away")), false));
        assertThatThrownBy(() -> ChatDatasets.labelled(
                        write("e.jsonl", "{\"prompt\": \"a\", \"completion\": \"b\", \"label\": \"yes\"}\n")))
                .isInstanceOf(DatasetException.class)
                .hasMessageEndingWith("e.jsonl:1: 'label' must be true or false, got \"yes\"");
        assertThatThrownBy(
                        () -> ChatDatasets.labelled(write("f.jsonl", "{\"prompt\": \"a\", \"completion\": \"b\"}\n")))
                .hasMessageEndingWith("f.jsonl:1: missing field 'label'");
    }

    @Test
    void aMalformedLineIsReportedWithItsLineNumberAndField() throws IOException {
        String good = "{\"messages\": [{\"role\": \"user\", \"content\": \"a\"}, {\"role\": \"assistant\", \"content\":"
                + " \"b\"}]}\n";
        assertThatThrownBy(() -> ChatDatasets.conversations(write("a.jsonl", good + "{\"messages\": [\n")))
                .isInstanceOf(DatasetException.class)
                .hasMessageStartingWith(dir.resolve("a.jsonl") + ":2: not valid JSON");
        assertThatThrownBy(() -> ChatDatasets.conversations(
                        write("b.jsonl", good + good + "{\"messages\": [{\"role\": \"user\", \"content\": 5}]}\n")))
                .hasMessageEndingWith("b.jsonl:3: messages[0].content must be a string");
        assertThatThrownBy(() -> ChatDatasets.conversations(
                        write("c.jsonl", "{\"messages\": [{\"role\": \"user\", \"content\": \"a\"}]}\n")))
                .hasMessageEndingWith("c.jsonl:1: messages has no assistant message to learn from");
        assertThatThrownBy(() -> ChatDatasets.preferences(write("d.jsonl", "{\"prompt\": \"a\", \"chosen\": \"b\"}\n")))
                .hasMessageEndingWith("d.jsonl:1: missing field 'rejected'");
        assertThatThrownBy(() -> ChatDatasets.conversations(write("e.jsonl", "[1, 2]\n")))
                .hasMessageEndingWith("e.jsonl:1: expected a JSON object, got ARRAY");
    }

    @Test
    void promptsAreReadWithTheirOptionalReference() throws IOException {
        Path file = write(
                "p.jsonl",
                "{\"prompt\": \"What is 2 + 3?\", \"reference\": \"5\"}\n\n"
                        + "{\"prompt\": [{\"role\": \"system\", \"content\": \"Be brief.\"},"
                        + " {\"role\": \"user\", \"content\": \"Name a colour.\"}]}\n");
        List<ChatDatasets.Prompt> prompts = ChatDatasets.prompts(file);
        assertThat(prompts).hasSize(2);
        assertThat(prompts.get(0).prompt()).containsExactly(ChatMessage.user("What is 2 + 3?"));
        assertThat(prompts.get(0).reference()).contains("5");
        assertThat(prompts.get(1).prompt()).hasSize(2);
        assertThat(prompts.get(1).reference()).isEmpty();
        assertThat(prompts.get(1).line()).isEqualTo(3);
    }

    @Test
    void aBadPromptLineIsReportedWithItsLineNumberAndField() throws IOException {
        assertThatThrownBy(
                        () -> ChatDatasets.prompts(write("a.jsonl", "{\"prompt\": \"hi\"}\n{\"question\": \"hi\"}\n")))
                .isInstanceOf(DatasetException.class)
                .hasMessageEndingWith("a.jsonl:2: missing field 'prompt'");
        assertThatThrownBy(() -> ChatDatasets.prompts(write("b.jsonl", "{\"prompt\": \"hi\", \"reference\": 5}\n")))
                .hasMessageEndingWith("b.jsonl:1: 'reference' must be a string, got 5");
        assertThatThrownBy(() -> ChatDatasets.prompts(write(
                        "c.jsonl",
                        "{\"prompt\": [{\"role\": \"user\", \"content\": \"hi\"},"
                                + " {\"role\": \"assistant\", \"content\": \"hello\"}]}\n")))
                .hasMessageEndingWith(
                        "c.jsonl:1: 'prompt' must end with a user message to answer, its last message is from"
                                + " assistant");
        assertThatThrownBy(() -> ChatDatasets.prompts(write("d.jsonl", "{\"prompt\": []}\n")))
                .hasMessageEndingWith("d.jsonl:1: 'prompt' must be a non-empty list of messages");
    }

    private Path write(String name, String text) throws IOException {
        return Files.writeString(dir.resolve(name), text);
    }
}
