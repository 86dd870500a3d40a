package dev.finetune.llm.tokenizer;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * One function call an assistant turn makes, in the OpenAI / HuggingFace shape chat templates read:
 * {@code {"id": ..., "type": "function", "function": {"name": ..., "arguments": ...}}}.
 *
 * @param id the call's id, which a tool message may answer with {@code tool_call_id}; null if none
 * @param name the function called
 * @param arguments a JSON object as a map, or the arguments as a JSON string (templates differ in
 *     which they expect; Qwen3's renders both, a string as it is)
 */
public record ToolCall(String id, String name, Object arguments) {
    public ToolCall {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(arguments, "arguments");
        if (!(arguments instanceof Map<?, ?>) && !(arguments instanceof String)) {
            throw new IllegalArgumentException("tool call arguments must be a map or a JSON string, got "
                    + arguments.getClass().getSimpleName());
        }
    }

    /** The call as the template receives it. */
    public Map<String, Object> toMap() {
        Map<String, Object> function = new LinkedHashMap<>();
        function.put("name", name);
        function.put("arguments", arguments);
        Map<String, Object> map = new LinkedHashMap<>();
        if (id != null) {
            map.put("id", id);
        }
        map.put("type", "function");
        map.put("function", function);
        return map;
    }
}
