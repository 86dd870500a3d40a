package dev.finetune.llm.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.finetune.events.Objective;
import dev.finetune.llm.settings.Settings;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SFT on tool-calling conversations: refused up front for a chat template that would drop the calls
 * (the tiny ChatML one), and learnt through a template that renders them.
 */
class ToolCallTrainingTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TOKENIZER_CONFIG = "tokenizer_config.json";

    /**
     * ChatML with tools: the function names in a system turn, each call as {@code <call>name
     * arguments</call>} after the assistant's text (a JSON-string argument as it is, an object as JSON).
     */
    static final String TOOL_CHATML_TEMPLATE = "{% if tools %}<|im_start|>system\ntools:"
            + "{% for t in tools %} {{ t.function.name }}{% endfor %}<|im_end|>\n{% endif %}"
            + "{% for message in messages %}<|im_start|>{{ message.role }}\n{{ message.content }}"
            + "{% if message.tool_calls %}{% for c in message.tool_calls %}<call>{{ c.function.name }} "
            + "{% if c.function.arguments is string %}{{ c.function.arguments }}"
            + "{% else %}{{ c.function.arguments | tojson }}{% endif %}</call>{% endfor %}{% endif %}"
            + "<|im_end|>\n{% endfor %}"
            + "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";

    private static final List<String> CITIES =
            List.of("Paris", "Rome", "Oslo", "Lima", "Cairo", "Tokyo", "Quito", "Dakar");

    @TempDir
    Path dir;

    @Test
    void toolDataIsRefusedForATemplateWithoutToolSupportNamingTheTemplateAndLine() throws IOException {
        Path model = TinyJob.model(dir.resolve("model"), 1);
        List<String> lines = new ArrayList<>(CapitalsTask.sftLines().subList(0, 2));
        lines.add(toolLine("Paris", 0));
        Path data = TinyJob.jsonl(dir.resolve("train.jsonl"), lines);

        try (SftRecipe recipe = new SftRecipe(job(model, data, 1), metrics -> {})) {
            assertThatThrownBy(recipe::setup)
                    .isInstanceOf(DatasetException.class)
                    .hasMessageContaining("train.jsonl:3:")
                    .hasMessageContaining("chat template (" + model.resolve(TOKENIZER_CONFIG))
                    .hasMessageContaining("does not render tool calls");
        }
    }

    @Test
    void dataWithoutToolsStillTrainsOnATemplateWithoutToolSupport() throws IOException {
        Path model = TinyJob.model(dir.resolve("model"), 1);
        Path data = TinyJob.jsonl(
                dir.resolve("train.jsonl"), CapitalsTask.sftLines().subList(0, 2));

        try (SftRecipe recipe = new SftRecipe(job(model, data, 1), metrics -> {})) {
            recipe.setup();
            assertThat(recipe.items()).hasSize(2);
        }
    }

    @Test
    void sftOnToolConversationsLowersTheLoss() throws IOException {
        Path model = withTemplate(TinyJob.learnable(dir.resolve("model"), 3), TOOL_CHATML_TEMPLATE);
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < CITIES.size(); i++) {
            lines.add(toolLine(CITIES.get(i), i));
        }
        Path data = TinyJob.jsonl(dir.resolve("train.jsonl"), lines);
        List<Double> losses = new ArrayList<>();

        try (SftRecipe recipe = new SftRecipe(job(model, data, 12), metrics -> losses.add(metrics.loss()))) {
            recipe.setup();
            String trained = recipe.tokenizer()
                    .decode(
                            trainedIds(
                                    recipe.items().get(0).ids(),
                                    recipe.items().get(0).targets()),
                            false);
            recipe.train();

            assertThat(trained)
                    .contains("<call>get_weather {\"city\": \"Paris\"}</call>")
                    .doesNotContain("temp");
            double first = losses.get(0);
            double last = losses.subList(losses.size() - 3, losses.size()).stream()
                    .mapToDouble(Double::doubleValue)
                    .average()
                    .orElseThrow();
            assertThat(last).as("loss %s -> %s", first, last).isLessThan(first / 3);
        }
    }

    /** A weather question answered by a call (arguments as an object or a JSON string), its result, an answer. */
    private static String toolLine(String city, int i) throws IOException {
        ObjectNode line = JSON.createObjectNode();
        var messages = line.putArray("messages");
        messages.addObject().put("role", "user").put("content", "Weather in " + city + "?");
        var call = messages.addObject()
                .put("role", "assistant")
                .putNull("content")
                .putArray("tool_calls")
                .addObject()
                .put("id", "c" + i)
                .put("type", "function")
                .putObject("function")
                .put("name", "get_weather");
        if (i % 2 == 0) {
            call.putObject("arguments").put("city", city);
        } else {
            call.put("arguments", "{\"city\": \"" + city + "\"}");
        }
        messages.addObject().put("role", "tool").put("tool_call_id", "c" + i).put("content", "temp " + (10 + i));
        messages.addObject().put("role", "assistant").put("content", "It is " + (10 + i) + " degrees in " + city + ".");
        line.putArray("tools")
                .addObject()
                .put("type", "function")
                .putObject("function")
                .put("name", "get_weather")
                .put("description", "Weather for a city");
        return JSON.writeValueAsString(line);
    }

    /** The trained tokens of a sequence, in order. */
    private static int[] trainedIds(long[] ids, boolean[] targets) {
        return IntStream.range(0, ids.length)
                .filter(t -> targets[t])
                .map(t -> Math.toIntExact(ids[t]))
                .toArray();
    }

    private static Path withTemplate(Path model, String template) throws IOException {
        Path file = model.resolve(TOKENIZER_CONFIG);
        ObjectNode config = (ObjectNode) JSON.readTree(file.toFile());
        config.put("chat_template", template);
        JSON.writeValue(file.toFile(), config);
        return model;
    }

    private TrainConfig job(Path model, Path data, int epochs) {
        return TrainConfig.of(model, data, dir.resolve("out"), Method.FULL, Objective.SFT)
                .with(Settings.LEARNING_RATE, 1e-2)
                .with(Settings.NUM_TRAIN_EPOCHS, (double) epochs)
                .with(Settings.PER_DEVICE_TRAIN_BATCH_SIZE, 4)
                .with(Settings.WARMUP_RATIO, 0.1);
    }
}
