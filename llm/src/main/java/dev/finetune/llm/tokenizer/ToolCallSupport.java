package dev.finetune.llm.tokenizer;

import java.util.List;
import java.util.Map;

/**
 * Whether a chat template renders tool calls. Many templates (plain ChatML among them) print only
 * each message's role and content, so a tool call would silently vanish from the training text and
 * the model would learn to answer a request with an empty turn. Asking the template is the only
 * robust test: a probe conversation with a {@code tools} list and one call is rendered, and the
 * template supports tools if the call's function name and an argument value both appear.
 */
public final class ToolCallSupport {
    /** Names no template prints by itself, so finding them means the call was rendered. */
    private static final String PROBE_FUNCTION = "probe_lookup_7f3a";

    private static final String PROBE_VALUE = "probe_value_91c2";

    private ToolCallSupport() {}

    /** Whether {@code template} renders an assistant turn's tool calls, arguments included. */
    public static boolean rendersToolCalls(ChatTemplate template) {
        Map<String, Object> tool = Map.of(
                "type",
                "function",
                "function",
                Map.of(
                        "name",
                        PROBE_FUNCTION,
                        "description",
                        "Looks a key up.",
                        "parameters",
                        Map.of("type", "object", "properties", Map.of("key", Map.of("type", "string")))));
        List<ChatMessage> probe = List.of(
                ChatMessage.user("Look the key up."),
                ChatMessage.assistant("", List.of(new ToolCall(null, PROBE_FUNCTION, Map.of("key", PROBE_VALUE)))),
                ChatMessage.tool("found", null, PROBE_FUNCTION),
                ChatMessage.assistant("Found it."));
        String rendered;
        try {
            rendered = template.render(probe, false, Map.of("tools", List.of(tool)));
        } catch (ChatTemplateException e) {
            return false; // a template that raises on a tool role or on tools does not support them
        }
        int call = rendered.indexOf(PROBE_FUNCTION, rendered.indexOf("Look the key up."));
        return call >= 0 && rendered.indexOf(PROBE_VALUE, call) >= 0;
    }
}
