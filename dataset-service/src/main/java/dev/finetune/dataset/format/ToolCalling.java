package dev.finetune.dataset.format;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.dataset.validation.InvalidLineException;
import dev.finetune.dataset.validation.LineError;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The tool-calling parts of a conversation, in the OpenAI / HuggingFace shape, checked strictly: an
 * assistant turn's {@code tool_calls}, the top-level {@code tools} list of function schemas, and
 * that every call names a declared function when {@code tools} is given. Errors name the line, the
 * field path and the value.
 */
final class ToolCalling {
    private static final ObjectMapper JSON = new ObjectMapper();

    private ToolCalling() {}

    /** An assistant turn's {@code tool_calls}: a non-empty list of {@code {type?, id?, function: {name, arguments}}}. */
    static List<ToolCall> toolCalls(long n, JsonNode node, String path) throws InvalidLineException {
        if (!node.isArray()) {
            throw invalid(n, path, "must be a list of tool calls", type(node));
        }
        if (node.isEmpty()) {
            throw invalid(n, path, "must not be empty (leave tool_calls out instead)", null);
        }
        List<ToolCall> calls = new ArrayList<>(node.size());
        for (int i = 0; i < node.size(); i++) {
            String at = path + "[" + i + "]";
            JsonNode call = node.get(i);
            if (!call.isObject()) {
                throw invalid(n, at, "must be an object with type and function", type(call));
            }
            requireFunctionType(n, call, at);
            JsonNode function = call.get("function");
            if (function == null || !function.isObject()) {
                throw invalid(n, at + ".function", "must be an object with name and arguments", type(function));
            }
            String name = name(n, function, at + ".function.name");
            calls.add(new ToolCall(
                    optionalText(n, call, "id", at + ".id"), name, arguments(n, function.get("arguments"), at)));
        }
        return calls;
    }

    /** The arguments: a JSON object, or a string holding one. */
    private static JsonNode arguments(long n, JsonNode arguments, String at) throws InvalidLineException {
        String path = at + ".function.arguments";
        if (arguments == null || arguments.isNull()) {
            throw invalid(n, path, "is required (an empty object {} for a call without arguments)", null);
        }
        if (arguments.isObject()) {
            return arguments;
        }
        if (!arguments.isTextual()) {
            throw invalid(n, path, "must be a JSON object or a string holding one", type(arguments));
        }
        JsonNode parsed;
        try {
            parsed = JSON.readTree(arguments.textValue());
        } catch (JsonProcessingException e) {
            throw invalid(n, path, "not valid JSON: " + e.getOriginalMessage(), arguments.textValue());
        }
        if (parsed == null || !parsed.isObject()) {
            throw invalid(n, path, "must hold a JSON object", arguments.textValue());
        }
        return arguments;
    }

    /**
     * The top-level {@code tools}: a list of {@code {type: "function", function: {name, description?,
     * parameters?}}} with distinct names. ShareGPT exports may hold the list as a JSON string.
     */
    static List<JsonNode> tools(long n, JsonNode node, boolean jsonStringAllowed) throws InvalidLineException {
        if (node == null || node.isNull()) {
            return List.of();
        }
        if (node.isTextual() && jsonStringAllowed) {
            try {
                node = JSON.readTree(node.textValue());
            } catch (JsonProcessingException e) {
                throw invalid(n, "tools", "not valid JSON: " + e.getOriginalMessage(), node.textValue());
            }
            if (node == null) {
                return List.of();
            }
        }
        if (!node.isArray()) {
            throw invalid(n, "tools", "must be a list of function schemas", type(node));
        }
        List<JsonNode> tools = new ArrayList<>(node.size());
        Set<String> names = new HashSet<>();
        for (int i = 0; i < node.size(); i++) {
            String at = "tools[" + i + "]";
            JsonNode tool = node.get(i);
            if (!tool.isObject()) {
                throw invalid(n, at, "must be an object with type and function", type(tool));
            }
            requireFunctionType(n, tool, at);
            JsonNode function = tool.get("function");
            if (function == null || !function.isObject()) {
                throw invalid(
                        n, at + ".function", "must be an object with name, description and parameters", type(function));
            }
            String name = name(n, function, at + ".function.name");
            if (!names.add(name)) {
                throw invalid(n, at + ".function.name", "is declared twice", name);
            }
            optionalText(n, function, "description", at + ".function.description");
            JsonNode parameters = function.get("parameters");
            if (parameters != null && !parameters.isNull() && !parameters.isObject()) {
                throw invalid(n, at + ".function.parameters", "must be a JSON schema object", type(parameters));
            }
            tools.add(tool);
        }
        return tools;
    }

    /** Every call names a function in {@code tools}, when tools are declared. */
    static void checkDeclared(long n, String field, List<Message> turns, List<JsonNode> tools)
            throws InvalidLineException {
        if (tools.isEmpty()) {
            return;
        }
        Set<String> declared = new HashSet<>();
        tools.forEach(t -> declared.add(t.get("function").get("name").textValue()));
        for (int i = 0; i < turns.size(); i++) {
            List<ToolCall> calls = turns.get(i).toolCalls();
            for (int c = 0; c < calls.size(); c++) {
                if (!declared.contains(calls.get(c).name())) {
                    throw invalid(
                            n,
                            field + "[" + i + "].tool_calls[" + c + "].function.name",
                            "names a function that is not in tools "
                                    + declared.stream().sorted().toList(),
                            calls.get(c).name());
                }
            }
        }
    }

    /**
     * A tool turn's {@code tool_call_id}, when given, answers a call of the assistant turn it follows
     * (whose calls have ids).
     */
    static void checkAnswers(long n, String field, List<Message> turns) throws InvalidLineException {
        Message caller = null;
        for (int i = 0; i < turns.size(); i++) {
            Message m = turns.get(i);
            if (m.role().equals("assistant")) {
                caller = m;
            } else if (m.role().equals("tool") && m.toolCallId() != null && caller != null) {
                Set<String> ids = new HashSet<>();
                caller.toolCalls().forEach(c -> ids.add(c.id()));
                if (!ids.contains(m.toolCallId())) {
                    throw invalid(
                            n,
                            field + "[" + i + "].tool_call_id",
                            "answers no call of the assistant turn before it",
                            m.toolCallId());
                }
            }
        }
    }

    private static void requireFunctionType(long n, JsonNode object, String at) throws InvalidLineException {
        JsonNode type = object.get("type");
        if (type != null && !type.isNull() && !"function".equals(type.textValue())) {
            throw invalid(n, at + ".type", "must be function", type.isTextual() ? type.textValue() : type.toString());
        }
    }

    private static String name(long n, JsonNode function, String path) throws InvalidLineException {
        JsonNode name = function.get("name");
        if (name == null || name.isNull()) {
            throw invalid(n, path, "is required", null);
        }
        if (!name.isTextual() || name.textValue().isBlank()) {
            throw invalid(n, path, "must be a non-empty string", name.isTextual() ? name.textValue() : type(name));
        }
        return name.textValue();
    }

    static String optionalText(long n, JsonNode object, String field, String path) throws InvalidLineException {
        JsonNode value = object.get(field);
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.isTextual()) {
            throw invalid(n, path, "must be a string", type(value));
        }
        return value.textValue();
    }

    private static String type(JsonNode node) {
        return node == null ? null : node.getNodeType().name().toLowerCase();
    }

    private static InvalidLineException invalid(long line, String field, String reason, String value) {
        return new InvalidLineException(LineError.of(line, field, reason, value));
    }
}
