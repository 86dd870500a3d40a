package dev.finetune.llm.tokenizer;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One turn of a conversation as chat templates see it: {@code {"role": ..., "content": ...}}, plus
 * the tool-calling fields of the OpenAI / HuggingFace message shape where they are set. Roles are
 * the template's own vocabulary, usually {@code system}, {@code user}, {@code assistant} and
 * {@code tool}. Messages with still other fields (reasoning content) are passed to
 * {@link ChatTemplate#renderMaps} as maps instead.
 *
 * @param content the text; empty (not null) for an assistant turn that only calls tools
 * @param toolCalls the functions an assistant turn calls, empty for other turns
 * @param toolCallId the call a {@code tool} message answers, or null
 * @param name the function whose result a {@code tool} message carries, or null
 */
public record ChatMessage(String role, String content, List<ToolCall> toolCalls, String toolCallId, String name) {
    public ChatMessage {
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(content, "content");
        toolCalls = List.copyOf(toolCalls);
    }

    public ChatMessage(String role, String content) {
        this(role, content, List.of(), null, null);
    }

    public static ChatMessage system(String content) {
        return new ChatMessage("system", content);
    }

    public static ChatMessage user(String content) {
        return new ChatMessage("user", content);
    }

    public static ChatMessage assistant(String content) {
        return new ChatMessage("assistant", content);
    }

    /** An assistant turn that calls functions, with optional text before the calls. */
    public static ChatMessage assistant(String content, List<ToolCall> toolCalls) {
        return new ChatMessage("assistant", content, toolCalls, null, null);
    }

    /** A function's result. */
    public static ChatMessage tool(String content, String toolCallId, String name) {
        return new ChatMessage("tool", content, List.of(), toolCallId, name);
    }

    /** Whether the turn calls tools or carries a tool's result. */
    public boolean usesTools() {
        return !toolCalls.isEmpty() || role.equals("tool");
    }

    /** The message as the template receives it; tool fields only where set, as transformers users pass them. */
    public Map<String, Object> toMap() {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("role", role);
        map.put("content", content);
        if (!toolCalls.isEmpty()) {
            List<Map<String, Object>> calls = new ArrayList<>(toolCalls.size());
            toolCalls.forEach(call -> calls.add(call.toMap()));
            map.put("tool_calls", calls);
        }
        if (toolCallId != null) {
            map.put("tool_call_id", toolCallId);
        }
        if (name != null) {
            map.put("name", name);
        }
        return map;
    }
}
