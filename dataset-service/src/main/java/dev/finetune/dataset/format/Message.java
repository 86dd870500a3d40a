package dev.finetune.dataset.format;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Objects;

/**
 * One turn of a conversation in canonical form.
 *
 * @param role {@code system}, {@code user}, {@code assistant} or {@code tool}
 * @param content the text, normalised (see {@link dev.finetune.dataset.clean.TextNormalizer}); empty
 *     for an assistant turn that only calls tools
 * @param toolCalls the functions an assistant turn calls, else empty
 * @param toolCallId the call a tool turn answers, or null
 * @param name the function whose result a tool turn carries, or null
 */
public record Message(String role, String content, List<ToolCall> toolCalls, String toolCallId, String name) {
    public Message {
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(content, "content");
        toolCalls = List.copyOf(toolCalls);
    }

    public Message(String role, String content) {
        this(role, content, List.of(), null, null);
    }

    /**
     * The turn as text: its content, then each call as {@code name arguments} on its own line, so
     * that near-duplicate detection and token estimates see the calls as part of the answer.
     */
    public String text() {
        if (toolCalls.isEmpty()) {
            return content;
        }
        StringBuilder text = new StringBuilder(content);
        for (ToolCall call : toolCalls) {
            JsonNode arguments = call.arguments();
            text.append('\n')
                    .append(call.name())
                    .append(' ')
                    .append(arguments.isTextual() ? arguments.textValue() : arguments.toString());
        }
        return text.toString();
    }
}
