package dev.finetune.dataset.prepare;

import static org.assertj.core.api.Assertions.assertThat;

import dev.finetune.dataset.format.JsonlLines;
import dev.finetune.dataset.format.LineParser;
import dev.finetune.events.DatasetFormat;
import dev.finetune.llm.tokenizer.ChatMessage;
import dev.finetune.llm.tokenizer.ToolCall;
import dev.finetune.llm.train.ChatDatasets;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The canonical line of a tool conversation keeps its calls, results and tools, as training reads them. */
class CanonicalToolJsonTest {
    @TempDir
    Path dir;

    @Test
    void canonicalToolConversationIsReadByTrainingWithCallsResultsAndTools() throws Exception {
        String line = "{\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\"}}],"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"Weather in Paris?\"},"
                + "{\"role\":\"assistant\",\"tool_calls\":[{\"id\":\"c1\",\"function\":{\"name\":\"get_weather\","
                + "\"arguments\":\"{\\\"city\\\": \\\"Paris\\\"}\"}}]},"
                + "{\"role\":\"tool\",\"tool_call_id\":\"c1\",\"content\":\"21 C\"},"
                + "{\"role\":\"assistant\",\"content\":\"It is 21 C.\"}]}";
        var example = new LineParser(DatasetFormat.AUTO, 10_000)
                .parse(new JsonlLines.Line(1, line.getBytes(StandardCharsets.UTF_8), true, false));
        Path canonical = Files.write(dir.resolve("train.jsonl"), DatasetPreparation.canonicalJson(example));

        ChatDatasets.Conversation read = ChatDatasets.supervised(canonical).get(0);

        assertThat(read.messages())
                .containsExactly(
                        ChatMessage.user("Weather in Paris?"),
                        ChatMessage.assistant("", List.of(new ToolCall("c1", "get_weather", "{\"city\": \"Paris\"}"))),
                        ChatMessage.tool("21 C", "c1", null),
                        ChatMessage.assistant("It is 21 C."));
        assertThat(read.tools()).containsExactly(Map.of("type", "function", "function", Map.of("name", "get_weather")));
    }

    @Test
    void exampleToolDatasetIsValidAndKeepsItsTools() throws Exception {
        List<String> lines = Files.readAllLines(Path.of("../examples/data/weather-tools.jsonl"));
        LineParser parser = new LineParser(DatasetFormat.AUTO, 10_000);
        StringBuilder canonical = new StringBuilder();
        for (int i = 0; i < lines.size(); i++) {
            var example = parser.parse(
                    new JsonlLines.Line(i + 1, lines.get(i).getBytes(StandardCharsets.UTF_8), true, false));
            canonical
                    .append(new String(DatasetPreparation.canonicalJson(example), StandardCharsets.UTF_8))
                    .append('\n');
        }

        List<ChatDatasets.Conversation> read =
                ChatDatasets.supervised(Files.writeString(dir.resolve("tools.jsonl"), canonical));

        assertThat(read).hasSize(lines.size()).allSatisfy(c -> assertThat(c.tools())
                .isNotEmpty());
        assertThat(read.get(1).messages().get(2).toolCalls()).hasSize(2);
    }
}
