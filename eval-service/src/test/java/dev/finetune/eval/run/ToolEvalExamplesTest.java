package dev.finetune.eval.run;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.finetune.events.DatasetKind;
import dev.finetune.llm.tokenizer.TinyTokenizerWriter;
import dev.finetune.llm.tokenizer.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A tool-calling test example is prompted and scored with its tools, as training rendered it. */
class ToolEvalExamplesTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** ChatML that lists the tools in a system turn and writes each call after the assistant's text. */
    private static final String TOOL_TEMPLATE = "{% if tools %}<|im_start|>system\ntools:"
            + "{% for t in tools %} {{ t.function.name }}{% endfor %}<|im_end|>\n{% endif %}"
            + "{% for message in messages %}<|im_start|>{{ message.role }}\n{{ message.content }}"
            + "{% if message.tool_calls %}{% for c in message.tool_calls %}<call>{{ c.function.name }}"
            + "</call>{% endfor %}{% endif %}<|im_end|>\n{% endfor %}"
            + "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";

    private static final String EXAMPLE = "{\"tools\": [{\"type\": \"function\", \"function\": {\"name\":"
            + " \"get_weather\"}}], \"messages\": [{\"role\": \"user\", \"content\": \"Weather in Oslo?\"},"
            + " {\"role\": \"assistant\", \"content\": \"\", \"tool_calls\": [{\"type\": \"function\","
            + " \"function\": {\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\"}}}]},"
            + " {\"role\": \"tool\", \"content\": \"4 C\"}, {\"role\": \"assistant\", \"content\": \"It is 4 C.\"}]}";

    @TempDir
    Path dir;

    @Test
    void theGenerationPromptAndTheScoredSequenceCarryTheExamplesTools() throws Exception {
        TinyTokenizerWriter.write(dir);
        Path config = dir.resolve("tokenizer_config.json");
        ObjectNode settings = (ObjectNode) JSON.readTree(config.toFile());
        settings.put("chat_template", TOOL_TEMPLATE);
        JSON.writeValue(config.toFile(), settings);
        Path test = Files.writeString(dir.resolve("test.jsonl"), EXAMPLE + "\n");

        try (Tokenizer tokenizer = Tokenizer.load(dir)) {
            EvalExamples examples = EvalExamples.read(test, DatasetKind.SFT, tokenizer, 10, 512);

            assertThat(decode(tokenizer, examples.prompts().get(0)))
                    .startsWith("<|im_start|>system\ntools: get_weather<|im_end|>\n<|im_start|>user\nWeather in Oslo?")
                    .contains("<call>get_weather</call>")
                    .contains("<|im_start|>tool\n4 C<|im_end|>")
                    .endsWith("<|im_start|>assistant\n");
            assertThat(decode(tokenizer, examples.scored().get(0).ids()))
                    .startsWith("<|im_start|>system\ntools: get_weather<|im_end|>");
            assertThat(examples.references()).containsExactly("It is 4 C.");
        }
    }

    private static String decode(Tokenizer tokenizer, long[] ids) {
        return tokenizer.decode(Arrays.stream(ids).mapToInt(Math::toIntExact).toArray(), false);
    }
}
