package dev.finetune.dataset.format;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Objects;

/**
 * One function call of an assistant turn, as OpenAI and HuggingFace chat templates have it:
 * {@code {"id": ..., "type": "function", "function": {"name": ..., "arguments": ...}}}.
 *
 * @param id the call's id, or null
 * @param name the function called
 * @param arguments a JSON object, or a string holding one, kept as given (templates render the two
 *     differently)
 */
public record ToolCall(String id, String name, JsonNode arguments) {
    public ToolCall {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(arguments, "arguments");
    }
}
