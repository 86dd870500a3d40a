package dev.finetune.dataset.format;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.dataset.clean.TextNormalizer;
import dev.finetune.dataset.validation.InvalidLineException;
import dev.finetune.dataset.validation.LineError;
import dev.finetune.events.DatasetFormat;
import dev.finetune.events.DatasetKind;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Turns one JSONL line of any supported format into a {@link CanonicalExample}, or says exactly
 * what is wrong with it. Text fields are normalised ({@link TextNormalizer}) before they are
 * checked, so a field of only spaces counts as empty.
 *
 * <p>With {@link DatasetFormat#AUTO} the format is taken from the first line that is a JSON object
 * with a recognisable set of fields; later lines must have the same format.
 *
 * <p>Prompt-only lines ({@link PromptOnly}) come in two formats' shapes and are told apart by their
 * fields, never by guessing: a {@code prompt} without {@code completion} (TRL's prompt-only format,
 * detected as {@code prompt_completion}), or {@code messages} ending in a user turn that give a reference
 * answer. The first accepted line fixes what the dataset is (conversations or prompts), and every later
 * line must be the same kind: in a dataset of prompts a chat line needs no reference, and in a dataset
 * of conversations a line without its answer is refused as it always was.
 */
public final class LineParser {
    /** A second value after the object ({@code {...}{...}}) is an error, not silently dropped. */
    private static final ObjectMapper JSON =
            new ObjectMapper().enable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private final long maxCharacters;
    private DatasetFormat format;
    /** What the first accepted line was (null before it): later lines of chat or prompt/completion must be the same. */
    private DatasetKind kind;
    /** The number of that line, for the errors of lines of the other kind. */
    private long kindLine;

    /**
     * @param declared the declared format, or AUTO to detect it
     * @param maxCharacters the longest example accepted, in characters of content
     */
    public LineParser(DatasetFormat declared, long maxCharacters) {
        this.format = declared;
        this.maxCharacters = maxCharacters;
    }

    /** The declared or detected format; AUTO until a line has been recognised. */
    public DatasetFormat format() {
        return format;
    }

    public CanonicalExample parse(JsonlLines.Line line) throws InvalidLineException {
        long n = line.number();
        if (line.tooLong()) {
            throw invalidLine(n, "line_length", "line is longer than 64 MiB", null);
        }
        if (!line.validUtf8()) {
            throw invalidLine(n, "encoding", "not valid UTF-8", null);
        }
        JsonNode root;
        try {
            root = JSON.readTree(line.bytes());
        } catch (JsonProcessingException e) {
            throw invalidLine(n, "json", "invalid JSON: " + e.getOriginalMessage(), null);
        } catch (IOException e) {
            throw invalidLine(n, "json", "invalid JSON: " + e.getMessage(), null);
        }
        if (root == null || !root.isObject()) {
            throw invalidLine(
                    n,
                    "json_object",
                    "must be a JSON object",
                    root == null ? null : root.getNodeType().name().toLowerCase());
        }
        DatasetFormat lineFormat = detect(root);
        if (format == DatasetFormat.AUTO) {
            if (lineFormat == null && PromptOnly.hasPromptAlone(root)) {
                // Only while detecting: a declared format keeps naming the field its lines lack.
                lineFormat = DatasetFormat.PROMPT_COMPLETION;
            }
            if (lineFormat == null) {
                throw invalidLine(
                        n,
                        "format",
                        "unrecognised format: expected fields messages, conversations, instruction/output, "
                                + "prompt/completion, prompt/completion/label, prompt/chosen/rejected or "
                                + "question/choices/answer or input_ids with labels/completion_mask, "
                                + "or prompt alone",
                        String.join(",", fieldNames(root)));
            }
            format = lineFormat;
        } else if (lineFormat != null && lineFormat != format && !labelMissing(lineFormat)) {
            throw invalidLine(
                    n,
                    "format",
                    "line has the fields of the " + lineFormat.code() + " format but the dataset is " + format.code(),
                    null);
        }
        CanonicalExample example =
                switch (format) {
                    case ALPACA -> alpaca(n, root);
                    case CHAT -> chat(n, root);
                    case SHAREGPT -> shareGpt(n, root);
                    case MULTIPLE_CHOICE -> multipleChoice(n, root);
                    case PROMPT_COMPLETION -> promptCompletion(n, root);
                    case PREFERENCE -> preference(n, root);
                    case UNPAIRED_PREFERENCE -> unpaired(n, root);
                    case TOKENIZED -> CanonicalExample.tokenized(TokenizedRow.parse(n, root));
                    case AUTO -> throw new IllegalStateException("format is detected above");
                };
        if (example.characters() > maxCharacters) {
            throw invalidLine(
                    n,
                    "characters",
                    "example has " + example.characters() + " characters, limit " + maxCharacters,
                    null);
        }
        if (kind == null) {
            kind = example.kind();
            kindLine = n;
        }
        return example;
    }

    /** A labelled-completion line without its label: parsed as one, so the error names the field. */
    private boolean labelMissing(DatasetFormat lineFormat) {
        return format == DatasetFormat.UNPAIRED_PREFERENCE && lineFormat == DatasetFormat.PROMPT_COMPLETION;
    }

    /** The format whose fields the object has, or null. */
    static DatasetFormat detect(JsonNode root) {
        if (TokenizedRow.has(root)) {
            return DatasetFormat.TOKENIZED;
        }
        if (root.has("chosen") && root.has("rejected")) {
            return DatasetFormat.PREFERENCE;
        }
        if (root.has("messages")) {
            return DatasetFormat.CHAT;
        }
        if (root.has("conversations")) {
            return DatasetFormat.SHAREGPT;
        }
        if (root.has("question") && root.has("choices")) {
            return DatasetFormat.MULTIPLE_CHOICE;
        }
        if (root.has("instruction") && root.has("output")) {
            return DatasetFormat.ALPACA;
        }
        if (root.has("prompt") && root.has("completion") && root.has("label")) {
            return DatasetFormat.UNPAIRED_PREFERENCE;
        }
        if (root.has("prompt") && root.has("completion")) {
            return DatasetFormat.PROMPT_COMPLETION;
        }
        return null;
    }

    private static CanonicalExample alpaca(long n, JsonNode root) throws InvalidLineException {
        String instruction = requiredText(n, root, "instruction");
        String input = optionalText(n, root, "input");
        String output = requiredText(n, root, "output");
        String user = input.isEmpty() ? instruction : instruction + "\n\n" + input;
        return CanonicalExample.sft(List.of(new Message("user", user), new Message("assistant", output)));
    }

    /** A prompt with its completion, or without one (a prompt-only line) unless the dataset is conversations. */
    private CanonicalExample promptCompletion(long n, JsonNode root) throws InvalidLineException {
        String answer = PromptOnly.answerField(root);
        if (kind == DatasetKind.PROMPT && answer != null) {
            throw invalid(
                    n,
                    answer,
                    "is not accepted: line " + kindLine + " made this a dataset of prompts, which have no answers",
                    null);
        }
        if (kind == DatasetKind.PROMPT || kind == null && PromptOnly.hasPromptAlone(root)) {
            return PromptOnly.fromPrompt(n, root);
        }
        String prompt = requiredText(n, root, "prompt");
        String completion = requiredText(n, root, "completion");
        return CanonicalExample.sft(List.of(new Message("user", prompt), new Message("assistant", completion)));
    }

    /**
     * A chat line: {@code messages}, which may call tools (OpenAI / HuggingFace shape: assistant
     * {@code tool_calls}, {@code tool} results, an optional top-level {@code tools} list).
     */
    private CanonicalExample chat(long n, JsonNode root) throws InvalidLineException {
        List<JsonNode> tools = ToolCalling.tools(n, root.get("tools"), false);
        List<Message> messages = messages(n, root.get("messages"), "messages", true);
        String last = messages.get(messages.size() - 1).role();
        if (kind == DatasetKind.PROMPT && !last.equals("user")) {
            throw invalid(
                    n,
                    "messages[" + (messages.size() - 1) + "].role",
                    "must end with a user message: line " + kindLine + " made this a dataset of prompts",
                    last);
        }
        if (last.equals("user") && (kind == DatasetKind.PROMPT || kind == null && PromptOnly.hasReference(root))) {
            return PromptOnly.fromMessages(n, root, messages, tools);
        }
        checkConversation(n, "messages", messages, true);
        ToolCalling.checkDeclared(n, "messages", messages, tools);
        ToolCalling.checkAnswers(n, "messages", messages);
        return CanonicalExample.sft(messages, tools);
    }

    /** ShareGPT's speaker names, as exports write them, and the chat role each is. */
    private static final Map<String, String> SHAREGPT_ROLES = Map.of(
            "system", "system",
            "human", "user",
            "user", "user",
            "gpt", "assistant",
            "assistant", "assistant",
            "function_call", "assistant",
            "observation", "tool");

    /**
     * A ShareGPT line: {@code conversations} of {@code from}/{@code value} turns, with an optional
     * top-level {@code system} prompt and {@code tools} (a list or a JSON string of one), as
     * LLaMA-Factory lays them out, checked as a chat conversation. LLaMA-Factory's tool turns become
     * the canonical tool-calling messages: a {@code function_call} turn (value: the JSON of
     * {@code {name, arguments}}, or a list of them) is an assistant turn with {@code tool_calls}, an
     * {@code observation} turn is a {@code tool} message with the result.
     */
    private static CanonicalExample shareGpt(long n, JsonNode root) throws InvalidLineException {
        JsonNode node = root.get("conversations");
        if (node == null || node.isNull()) {
            throw invalid(n, "conversations", "is required", null);
        }
        if (!node.isArray()) {
            throw invalid(
                    n,
                    "conversations",
                    "must be a list of {from, value} turns",
                    node.getNodeType().name().toLowerCase());
        }
        if (node.isEmpty()) {
            throw invalid(n, "conversations", "must not be empty", null);
        }
        List<Message> turns = new ArrayList<>(node.size());
        for (int i = 0; i < node.size(); i++) {
            JsonNode m = node.get(i);
            String path = "conversations[" + i + "]";
            if (!m.isObject()) {
                throw invalid(
                        n,
                        path,
                        "must be an object with from and value",
                        m.getNodeType().name().toLowerCase());
            }
            String from = requiredText(n, m, "from", path + ".from");
            String role = SHAREGPT_ROLES.get(from.toLowerCase(Locale.ROOT));
            if (role == null) {
                throw invalid(
                        n,
                        path + ".from",
                        "must be one of human, user, gpt, assistant, system, function_call, observation",
                        from);
            }
            String value = requiredText(n, m, "value", path + ".value");
            turns.add(
                    from.equalsIgnoreCase("function_call")
                            ? new Message(role, "", shareGptCalls(n, value, path + ".value"), null, null)
                            : new Message(role, value));
        }
        checkConversation(n, "conversations", "from", turns, true);
        List<JsonNode> tools = ToolCalling.tools(n, root.get("tools"), true);
        ToolCalling.checkDeclared(n, "conversations", turns, tools);
        JsonNode system = root.get("system");
        if (system == null || system.isNull()) {
            return CanonicalExample.sft(turns, tools);
        }
        if (turns.get(0).role().equals("system")) {
            throw invalid(n, "system", "is given twice: here and as conversations[0]", null);
        }
        List<Message> messages = new ArrayList<>(turns.size() + 1);
        messages.add(new Message("system", requiredText(n, root, "system")));
        messages.addAll(turns);
        return CanonicalExample.sft(messages, tools);
    }

    /** A {@code function_call} turn's value: the JSON of {@code {name, arguments}}, or a list of them. */
    private static List<ToolCall> shareGptCalls(long n, String value, String path) throws InvalidLineException {
        JsonNode parsed;
        try {
            parsed = JSON.readTree(value);
        } catch (JsonProcessingException e) {
            throw invalid(n, path, "not valid JSON: " + e.getOriginalMessage(), value);
        }
        if (parsed == null || !(parsed.isObject() || parsed.isArray())) {
            throw invalid(n, path, "must be the JSON of {name, arguments} or a list of them", value);
        }
        com.fasterxml.jackson.databind.node.ArrayNode calls = JSON.createArrayNode();
        for (JsonNode call : parsed.isArray() ? parsed : List.of(parsed)) {
            if (!call.isObject()) {
                throw invalid(n, path, "must be the JSON of {name, arguments} or a list of them", value);
            }
            calls.addObject().put("type", "function").set("function", call);
        }
        return ToolCalling.toolCalls(n, calls, path);
    }

    /**
     * A multiple-choice question: {@code question}, {@code choices} (at least two, no two the same)
     * and {@code answer}, the right choice's 0-based index or its text.
     */
    private static CanonicalExample multipleChoice(long n, JsonNode root) throws InvalidLineException {
        String question = requiredText(n, root, "question");
        JsonNode node = root.get("choices");
        if (node == null || node.isNull()) {
            throw invalid(n, "choices", "is required", null);
        }
        if (!node.isArray()) {
            throw invalid(
                    n,
                    "choices",
                    "must be a list of strings",
                    node.getNodeType().name().toLowerCase());
        }
        if (node.size() < 2) {
            throw invalid(n, "choices", "must have at least two choices", String.valueOf(node.size()));
        }
        List<String> choices = new ArrayList<>(node.size());
        for (int i = 0; i < node.size(); i++) {
            String path = "choices[" + i + "]";
            JsonNode choice = node.get(i);
            if (!choice.isTextual()) {
                throw invalid(
                        n, path, "must be a string", choice.getNodeType().name().toLowerCase());
            }
            String text = TextNormalizer.normalize(choice.textValue());
            if (text.isEmpty()) {
                throw invalid(n, path, "must not be empty", null);
            }
            int same = choices.indexOf(text);
            if (same >= 0) {
                throw invalid(n, path, "is the same as choices[" + same + "]", text);
            }
            choices.add(text);
        }
        JsonNode answer = root.get("answer");
        if (answer == null || answer.isNull()) {
            throw invalid(n, "answer", "is required", null);
        }
        int index;
        if (answer.isIntegralNumber()) {
            index = answer.asInt();
            if (!answer.canConvertToInt() || index < 0 || index >= choices.size()) {
                throw invalid(n, "answer", "must be a choice's index, 0 to " + (choices.size() - 1), answer.toString());
            }
        } else if (answer.isTextual()) {
            index = choices.indexOf(TextNormalizer.normalize(answer.textValue()));
            if (index < 0) {
                throw invalid(n, "answer", "is not one of the choices", answer.textValue());
            }
        } else {
            throw invalid(
                    n,
                    "answer",
                    "must be a choice's index or its text",
                    answer.getNodeType().name().toLowerCase());
        }
        return CanonicalExample.multipleChoice(question, choices, index);
    }

    private static CanonicalExample preference(long n, JsonNode root) throws InvalidLineException {
        JsonNode prompt = root.get("prompt");
        JsonNode chosen = required(n, root, "chosen");
        JsonNode rejected = required(n, root, "rejected");
        CanonicalExample example;
        if (prompt == null && chosen.isArray() && rejected.isArray()) {
            example = implicitPrompt(n, messages(n, chosen, "chosen"), messages(n, rejected, "rejected"));
        } else {
            if (prompt == null) {
                throw invalid(n, "prompt", "is required when chosen and rejected are strings", null);
            }
            List<Message> promptTurns = prompt.isTextual()
                    ? List.of(new Message("user", requiredText(n, root, "prompt")))
                    : messages(n, prompt, "prompt");
            checkConversation(n, "prompt", promptTurns, false);
            example = CanonicalExample.preference(promptTurns, answer(n, root, "chosen"), answer(n, root, "rejected"));
        }
        if (example.chosen().equals(example.rejected())) {
            throw invalid(n, "rejected", "is identical to chosen", null);
        }
        return example;
    }

    /**
     * TRL's unpaired preference (KTO) line: a prompt (a string, or turns ending with a user turn), one
     * completion (a string, or assistant turns) and a boolean label, true for a desirable completion.
     */
    private static CanonicalExample unpaired(long n, JsonNode root) throws InvalidLineException {
        JsonNode prompt = required(n, root, "prompt");
        required(n, root, "completion");
        JsonNode label = required(n, root, "label");
        if (!label.isBoolean()) {
            throw invalid(
                    n, "label", "must be true or false", label.isTextual() ? label.textValue() : label.toString());
        }
        List<Message> promptTurns = prompt.isTextual()
                ? List.of(new Message("user", requiredText(n, root, "prompt")))
                : messages(n, prompt, "prompt");
        checkConversation(n, "prompt", promptTurns, false);
        return CanonicalExample.unpaired(promptTurns, answer(n, root, "completion"), label.booleanValue());
    }

    /** The chat-shaped variant without a prompt: both conversations share it as their common prefix. */
    private static CanonicalExample implicitPrompt(long n, List<Message> chosen, List<Message> rejected)
            throws InvalidLineException {
        int common = 0;
        while (common < chosen.size() - 1
                && common < rejected.size() - 1
                && chosen.get(common).equals(rejected.get(common))) {
            common++;
        }
        List<Message> prompt = chosen.subList(0, common);
        if (prompt.isEmpty()) {
            throw invalid(n, "chosen", "chosen and rejected must share the prompt turns they start with", null);
        }
        checkConversation(n, "chosen", prompt, false);
        List<Message> chosenAnswer = chosen.subList(common, chosen.size());
        List<Message> rejectedAnswer = rejected.subList(common, rejected.size());
        checkAnswer(n, "chosen", chosenAnswer, common);
        checkAnswer(n, "rejected", rejectedAnswer, common);
        return CanonicalExample.preference(prompt, chosenAnswer, rejectedAnswer);
    }

    /** A field a declared format needs, which a line of another shape may lack. */
    private static JsonNode required(long n, JsonNode root, String field) throws InvalidLineException {
        JsonNode node = root.get(field);
        if (node == null || node.isNull()) {
            throw invalid(n, field, "is required", null);
        }
        return node;
    }

    private static List<Message> answer(long n, JsonNode root, String field) throws InvalidLineException {
        JsonNode node = root.get(field);
        if (node.isTextual()) {
            return List.of(new Message("assistant", requiredText(n, root, field)));
        }
        List<Message> turns = messages(n, node, field);
        checkAnswer(n, field, turns, 0);
        return turns;
    }

    private static void checkAnswer(long n, String field, List<Message> turns, int offset) throws InvalidLineException {
        if (turns.isEmpty()) {
            throw invalid(n, field, "must contain an assistant answer", null);
        }
        for (int i = 0; i < turns.size(); i++) {
            if (!turns.get(i).role().equals("assistant")) {
                throw invalid(
                        n,
                        field + "[" + (i + offset) + "].role",
                        "must be assistant in an answer",
                        turns.get(i).role());
            }
        }
    }

    private static List<Message> messages(long n, JsonNode node, String field) throws InvalidLineException {
        return messages(n, node, field, false);
    }

    /** The turns under {@code field}; {@code tools}: whether tool calls and tool turns are accepted. */
    static List<Message> messages(long n, JsonNode node, String field, boolean tools) throws InvalidLineException {
        if (node == null || node.isNull()) {
            throw invalid(n, field, "is required", null);
        }
        if (!node.isArray()) {
            throw invalid(
                    n,
                    field,
                    "must be a list of {role, content} messages",
                    node.getNodeType().name().toLowerCase());
        }
        if (node.isEmpty()) {
            throw invalid(n, field, "must not be empty", null);
        }
        List<Message> messages = new ArrayList<>(node.size());
        for (int i = 0; i < node.size(); i++) {
            JsonNode m = node.get(i);
            String path = field + "[" + i + "]";
            if (!m.isObject()) {
                throw invalid(
                        n,
                        path,
                        "must be an object with role and content",
                        m.getNodeType().name().toLowerCase());
            }
            String role = requiredText(n, m, "role", path + ".role");
            boolean known = role.equals("system") || role.equals("user") || role.equals("assistant");
            if (!known && !(tools && role.equals("tool"))) {
                throw invalid(
                        n, path + ".role", "must be one of system, user, assistant" + (tools ? ", tool" : ""), role);
            }
            JsonNode calls = m.get("tool_calls");
            if (calls == null || calls.isNull()) {
                messages.add(
                        role.equals("tool")
                                ? new Message(
                                        role,
                                        requiredText(n, m, "content", path + ".content"),
                                        List.of(),
                                        ToolCalling.optionalText(n, m, "tool_call_id", path + ".tool_call_id"),
                                        ToolCalling.optionalText(n, m, "name", path + ".name"))
                                : new Message(role, requiredText(n, m, "content", path + ".content")));
                continue;
            }
            if (!tools) {
                throw invalid(n, path + ".tool_calls", "tool calls are accepted in messages (chat format) only", null);
            }
            if (!role.equals("assistant")) {
                throw invalid(n, path + ".tool_calls", "only assistant messages call tools", role);
            }
            List<ToolCall> toolCalls = ToolCalling.toolCalls(n, calls, path + ".tool_calls");
            messages.add(new Message(role, optionalText(n, m, "content", path + ".content"), toolCalls, null, null));
        }
        return messages;
    }

    /**
     * An optional system turn first, then user and assistant alternating, starting with user; a
     * full conversation ends with assistant, a prompt with user.
     */
    static void checkConversation(long n, String field, List<Message> turns, boolean endsWithAssistant)
            throws InvalidLineException {
        checkConversation(n, field, "role", turns, endsWithAssistant);
    }

    /** As above, naming each turn's speaker field {@code roleField} in errors ({@code from} in ShareGPT). */
    private static void checkConversation(
            long n, String field, String roleField, List<Message> turns, boolean endsWithAssistant)
            throws InvalidLineException {
        int first = turns.get(0).role().equals("system") ? 1 : 0;
        if (first == turns.size()) {
            throw invalid(n, field, "has only a system message", null);
        }
        for (int i = first; i < turns.size(); i++) {
            List<String> expected = i == first ? List.of("user") : next(turns.get(i - 1));
            if (!expected.contains(turns.get(i).role())) {
                throw invalid(
                        n,
                        field + "[" + i + "]." + roleField,
                        "wrong role order: expected " + String.join(" or ", expected)
                                + (i == 0
                                        ? ""
                                        : " after " + turns.get(i - 1).role()
                                                + (turns.get(i - 1).toolCalls().isEmpty() ? "" : " with tool calls")),
                        turns.get(i).role());
            }
        }
        String last = turns.get(turns.size() - 1).role();
        String wanted = endsWithAssistant ? "assistant" : "user";
        if (!last.equals(wanted)) {
            throw invalid(
                    n,
                    field + "[" + (turns.size() - 1) + "]." + roleField,
                    "must end with " + (wanted.equals("user") ? "a user" : "an assistant") + " message",
                    last);
        }
    }

    /**
     * The roles that may follow {@code turn}: user and assistant alternate; an assistant turn that
     * calls tools is followed by their results, and results by more results or the assistant.
     */
    private static List<String> next(Message turn) {
        return switch (turn.role()) {
            case "assistant" -> turn.toolCalls().isEmpty() ? List.of("user") : List.of("tool");
            case "tool" -> List.of("tool", "assistant");
            default -> List.of("assistant");
        };
    }

    private static String requiredText(long n, JsonNode obj, String name) throws InvalidLineException {
        return requiredText(n, obj, name, name);
    }

    static String requiredText(long n, JsonNode obj, String name, String path) throws InvalidLineException {
        JsonNode node = obj.get(name);
        if (node == null || node.isNull()) {
            throw invalid(n, path, "is required", null);
        }
        if (!node.isTextual()) {
            throw invalid(n, path, "must be a string", node.getNodeType().name().toLowerCase());
        }
        String text = TextNormalizer.normalize(node.textValue());
        if (text.isEmpty()) {
            throw invalid(n, path, "must not be empty", null);
        }
        return text;
    }

    private static String optionalText(long n, JsonNode obj, String name) throws InvalidLineException {
        return optionalText(n, obj, name, name);
    }

    private static String optionalText(long n, JsonNode obj, String name, String path) throws InvalidLineException {
        JsonNode node = obj.get(name);
        if (node == null || node.isNull()) {
            return "";
        }
        if (!node.isTextual()) {
            throw invalid(n, path, "must be a string", node.getNodeType().name().toLowerCase());
        }
        return TextNormalizer.normalize(node.textValue());
    }

    private static List<String> fieldNames(JsonNode root) {
        List<String> names = new ArrayList<>();
        root.fieldNames().forEachRemaining(names::add);
        return names;
    }

    private static InvalidLineException invalid(long line, String field, String reason, String value) {
        return new InvalidLineException(LineError.of(line, field, reason, value));
    }

    /** The whole line is at fault; {@code rule} is one of a fixed set of codes, for counting. */
    private static InvalidLineException invalidLine(long line, String rule, String reason, String value) {
        return new InvalidLineException(LineError.of(line, null, reason, value), rule);
    }
}
