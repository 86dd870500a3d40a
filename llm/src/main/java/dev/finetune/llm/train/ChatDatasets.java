package dev.finetune.llm.train;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.llm.objective.TrainingSequence;
import dev.finetune.llm.tokenizer.ChatMessage;
import dev.finetune.llm.tokenizer.ToolCall;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Reads training data in JSON Lines, one example per line, in the conversational forms TRL uses:
 *
 * <ul>
 *   <li>supervised: {@code {"messages": [{"role": "user", "content": "..."}, {"role": "assistant", ...}]}},
 *       optionally with tool calling in the OpenAI / HuggingFace shape: assistant messages with
 *       {@code tool_calls} (their {@code content} may then be null), {@code tool} messages with the
 *       results ({@code tool_call_id}, {@code name} optional) and a top-level {@code tools} list of
 *       function schemas, which the chat template receives as its {@code tools} variable
 *   <li>preference: {@code {"prompt": [messages], "chosen": [messages], "rejected": [messages]}}, where
 *       a plain string stands for one message (a user prompt, an assistant completion)
 *   <li>unpaired preference (KTO): {@code {"prompt": [messages], "completion": [messages], "label": true}},
 *       strings as above, the label true for a desirable completion and false for an undesirable one
 *   <li>prompt-only (GRPO): {@code {"prompt": [messages ending in a user turn], "reference": "..."}}, a
 *       string prompt standing for one user message; {@code reference}, the expected answer that
 *       rewards such as exact_match compare with, is optional
 *   <li>pre-tokenized (SFT): {@code {"input_ids": [ids], "completion_mask": [0 or 1 per id]}} (TRL's
 *       name, 1 = trained) or {@code {"input_ids": [ids], "labels": [-100 or the id]}} (HuggingFace's,
 *       before the shift); the ids are the model's, trained as they are
 * </ul>
 *
 * Blank lines are skipped; other fields are ignored. A bad line fails with its line number and field.
 */
public final class ChatDatasets {
    private static final ObjectMapper JSON = new ObjectMapper();

    private ChatDatasets() {}

    /**
     * A preference example before tokenization; {@code margin} is the optional per-pair margin a reward model's loss subtracts
     * (TRL's {@code margin} column), 0 when the row has none.
     */
    public record Preference(
            List<ChatMessage> prompt, List<ChatMessage> chosen, List<ChatMessage> rejected, double margin) {
        public Preference(List<ChatMessage> prompt, List<ChatMessage> chosen, List<ChatMessage> rejected) {
            this(prompt, chosen, rejected, 0);
        }
    }

    /**
     * A prompt to generate completions for, before tokenization.
     *
     * @param reference the expected answer, if the line gives one
     * @param line the prompt's line in its file, for errors about it
     */
    public record Prompt(List<ChatMessage> prompt, Optional<String> reference, int line) {
        public Prompt {
            prompt = List.copyOf(prompt);
        }
    }

    /** An unpaired preference example before tokenization: a completion labelled desirable or not. */
    public record Labelled(List<ChatMessage> prompt, List<ChatMessage> completion, boolean desirable) {}

    /**
     * A supervised example before tokenization.
     *
     * @param tools the function schemas the conversation may call (the template's {@code tools}), often empty
     * @param line the example's line in its file, for errors about it
     */
    public record Conversation(List<ChatMessage> messages, List<Map<String, Object>> tools, int line) {
        public Conversation {
            messages = List.copyOf(messages);
            tools = List.copyOf(tools);
        }

        /** Whether the example calls tools, carries tool results or declares tools. */
        public boolean usesTools() {
            return !tools.isEmpty() || messages.stream().anyMatch(ChatMessage::usesTools);
        }
    }

    /**
     * A pre-tokenized example: its ids and which of them are trained on, from line {@code line}.
     *
     * @param trained whether the loss counts the prediction of each token (position 0 never does)
     */
    public record Tokenized(int line, long[] ids, boolean[] trained) {
        /** HuggingFace's label for a position the loss ignores. */
        static final int IGNORE_INDEX = -100;

        /**
         * The training sequence, cut to {@code maxLength} as a rendered conversation is; empty if no
         * trained token is left.
         */
        public Optional<TrainingSequence> sequence(int maxLength) {
            boolean[] targets = trained.clone();
            targets[0] = false; // nothing before the first token to predict it from
            TrainingSequence sequence =
                    TrainingSequence.of(ids.clone(), targets).truncate(maxLength);
            return sequence.targetCount() == 0 ? Optional.empty() : Optional.of(sequence);
        }
    }

    /** Whether the file's first example is pre-tokenized (has {@code input_ids}); false for an empty file. */
    public static boolean isTokenized(Path file) throws IOException {
        try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String text;
            while ((text = reader.readLine()) != null) {
                if (!text.isBlank()) {
                    try {
                        return JSON.readTree(text).has("input_ids");
                    } catch (JsonProcessingException e) {
                        return false; // reported with its line by the reader that follows
                    }
                }
            }
        }
        return false;
    }

    /**
     * Pre-tokenized examples, each id checked against the model's {@code vocabSize}: an id the
     * embedding has no row for fails here, naming line, position, value and the vocabulary size,
     * rather than deep in a gather.
     */
    public static List<Tokenized> tokenized(Path file, int vocabSize) throws IOException {
        List<Tokenized> examples = new ArrayList<>();
        forEachLine(file, (node, line) -> {
            long[] ids = ints(node, "input_ids", file, line);
            for (int t = 0; t < ids.length; t++) {
                if (ids[t] < 0 || ids[t] >= vocabSize) {
                    throw new DatasetException(
                            file,
                            line,
                            "input_ids[" + t + "] = " + ids[t] + " is not a token of the model: its vocab_size is "
                                    + vocabSize);
                }
            }
            boolean[] trained = new boolean[ids.length];
            boolean labels = node.has("labels");
            long[] marks = ints(node, labels ? "labels" : "completion_mask", file, line);
            if (marks.length != ids.length) {
                throw new DatasetException(
                        file,
                        line,
                        (labels ? "labels" : "completion_mask") + " has " + marks.length + " entries, input_ids "
                                + ids.length + ": they must be equally long");
            }
            for (int t = 0; t < ids.length; t++) {
                boolean valid = labels
                        ? marks[t] == Tokenized.IGNORE_INDEX || marks[t] == ids[t]
                        : marks[t] == 0 || marks[t] == 1;
                if (!valid) {
                    throw new DatasetException(
                            file,
                            line,
                            labels
                                    ? "labels[" + t + "] = " + marks[t] + " must be -100 or input_ids[" + t + "] = "
                                            + ids[t]
                                    : "completion_mask[" + t + "] = " + marks[t] + " must be 0 or 1");
                }
                trained[t] = labels ? marks[t] != Tokenized.IGNORE_INDEX : marks[t] == 1;
            }
            examples.add(new Tokenized(line, ids, trained));
        });
        return examples;
    }

    /** A non-empty list of integers under {@code field}. */
    private static long[] ints(JsonNode node, String field, Path file, int line) throws DatasetException {
        JsonNode value = node.get(field);
        if (value == null || !value.isArray() || value.isEmpty()) {
            throw new DatasetException(file, line, "'" + field + "' must be a non-empty list of integers");
        }
        long[] values = new long[value.size()];
        for (int i = 0; i < values.length; i++) {
            if (!value.get(i).isIntegralNumber()) {
                throw new DatasetException(file, line, field + "[" + i + "] must be an integer, got " + value.get(i));
            }
            values[i] = value.get(i).asLong();
        }
        return values;
    }

    /** The supervised examples' messages, without their tools. */
    public static List<List<ChatMessage>> conversations(Path file) throws IOException {
        return supervised(file).stream().map(Conversation::messages).toList();
    }

    /** The supervised examples with their tools and line numbers. */
    public static List<Conversation> supervised(Path file) throws IOException {
        List<Conversation> conversations = new ArrayList<>();
        forEachLine(file, (node, line) -> {
            List<ChatMessage> messages = messages(node, "messages", null, file, line);
            if (messages.stream().noneMatch(m -> m.role().equals("assistant"))) {
                throw new DatasetException(file, line, "messages has no assistant message to learn from");
            }
            conversations.add(new Conversation(messages, tools(node, file, line), line));
        });
        return conversations;
    }

    /** The optional top-level {@code tools} list, each a JSON object, as plain maps for the template. */
    private static List<Map<String, Object>> tools(JsonNode node, Path file, int line) throws DatasetException {
        JsonNode tools = node.get("tools");
        if (tools == null || tools.isNull()) {
            return List.of();
        }
        if (!tools.isArray()) {
            throw new DatasetException(file, line, "'tools' must be a list of function schemas");
        }
        List<Map<String, Object>> schemas = new ArrayList<>();
        for (int i = 0; i < tools.size(); i++) {
            if (!tools.get(i).isObject()) {
                throw new DatasetException(file, line, "tools[" + i + "] must be a JSON object");
            }
            schemas.add(plain(tools.get(i)));
        }
        return schemas;
    }

    private static Map<String, Object> plain(JsonNode object) {
        return JSON.convertValue(object, new TypeReference<Map<String, Object>>() {});
    }

    public static List<Preference> preferences(Path file) throws IOException {
        List<Preference> preferences = new ArrayList<>();
        forEachLine(
                file,
                (node, line) -> preferences.add(new Preference(
                        messages(node, "prompt", "user", file, line),
                        messages(node, "chosen", "assistant", file, line),
                        messages(node, "rejected", "assistant", file, line),
                        margin(node, file, line))));
        return preferences;
    }

    private static double margin(JsonNode node, Path file, int line) throws DatasetException {
        JsonNode margin = node.get("margin");
        if (margin == null || margin.isNull()) {
            return 0;
        }
        if (!margin.isNumber() || !Double.isFinite(margin.doubleValue())) {
            throw new DatasetException(file, line, "'margin' must be a finite number, got " + margin);
        }
        return margin.doubleValue();
    }

    public static List<Labelled> labelled(Path file) throws IOException {
        List<Labelled> examples = new ArrayList<>();
        forEachLine(file, (node, line) -> {
            JsonNode label = node.get("label");
            if (label == null || label.isNull()) {
                throw new DatasetException(file, line, "missing field 'label'");
            }
            if (!label.isBoolean()) {
                throw new DatasetException(file, line, "'label' must be true or false, got " + label);
            }
            examples.add(new Labelled(
                    messages(node, "prompt", "user", file, line),
                    messages(node, "completion", "assistant", file, line),
                    label.booleanValue()));
        });
        return examples;
    }

    /** Prompt-only lines: each prompt's messages end in a user turn, and a reference, if any, is a string. */
    public static List<Prompt> prompts(Path file) throws IOException {
        List<Prompt> prompts = new ArrayList<>();
        forEachLine(file, (node, line) -> {
            List<ChatMessage> messages = messages(node, "prompt", "user", file, line);
            String last = messages.get(messages.size() - 1).role();
            if (!last.equals("user")) {
                throw new DatasetException(
                        file,
                        line,
                        "'prompt' must end with a user message to answer, its last message is from " + last);
            }
            JsonNode reference = node.get("reference");
            if (reference != null && !reference.isNull() && !reference.isTextual()) {
                throw new DatasetException(file, line, "'reference' must be a string, got " + reference);
            }
            prompts.add(new Prompt(
                    messages,
                    reference == null || reference.isNull() ? Optional.empty() : Optional.of(reference.asText()),
                    line));
        });
        return prompts;
    }

    @FunctionalInterface
    private interface LineHandler {
        void accept(JsonNode node, int line) throws DatasetException;
    }

    private static void forEachLine(Path file, LineHandler handler) throws IOException {
        try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String text;
            int line = 0;
            while ((text = reader.readLine()) != null) {
                line++;
                if (text.isBlank()) {
                    continue;
                }
                JsonNode node;
                try {
                    node = JSON.readTree(text);
                } catch (JsonProcessingException e) {
                    throw new DatasetException(file, line, "not valid JSON: " + e.getOriginalMessage());
                }
                if (!node.isObject()) {
                    throw new DatasetException(file, line, "expected a JSON object, got " + node.getNodeType());
                }
                handler.accept(node, line);
            }
        }
    }

    /** A non-empty message list under {@code field}; a string is one message of {@code stringRole}. */
    private static List<ChatMessage> messages(JsonNode node, String field, String stringRole, Path file, int line)
            throws DatasetException {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            throw new DatasetException(file, line, "missing field '" + field + "'");
        }
        if (value.isTextual() && stringRole != null) {
            return List.of(new ChatMessage(stringRole, value.asText()));
        }
        if (!value.isArray() || value.isEmpty()) {
            throw new DatasetException(file, line, "'" + field + "' must be a non-empty list of messages");
        }
        List<ChatMessage> messages = new ArrayList<>();
        for (int i = 0; i < value.size(); i++) {
            JsonNode message = value.get(i);
            String where = field + "[" + i + "]";
            JsonNode role = message.get("role");
            JsonNode content = message.get("content");
            if (role == null || !role.isTextual() || role.asText().isBlank()) {
                throw new DatasetException(file, line, where + ".role must be a non-empty string");
            }
            List<ToolCall> toolCalls = toolCalls(message.get("tool_calls"), where, file, line);
            boolean noContent = content == null || content.isNull();
            if (!(noContent && !toolCalls.isEmpty()) && (content == null || !content.isTextual())) {
                throw new DatasetException(file, line, where + ".content must be a string");
            }
            messages.add(new ChatMessage(
                    role.asText(),
                    noContent ? "" : content.asText(),
                    toolCalls,
                    optionalText(message, "tool_call_id", where, file, line),
                    optionalText(message, "name", where, file, line)));
        }
        return messages;
    }

    private static List<ToolCall> toolCalls(JsonNode calls, String where, Path file, int line) throws DatasetException {
        if (calls == null || calls.isNull()) {
            return List.of();
        }
        if (!calls.isArray()) {
            throw new DatasetException(file, line, where + ".tool_calls must be a list");
        }
        List<ToolCall> toolCalls = new ArrayList<>();
        for (int i = 0; i < calls.size(); i++) {
            String at = where + ".tool_calls[" + i + "]";
            JsonNode function = calls.get(i).path("function");
            JsonNode name = function.get("name");
            JsonNode arguments = function.get("arguments");
            if (name == null || !name.isTextual() || name.asText().isBlank()) {
                throw new DatasetException(file, line, at + ".function.name must be a non-empty string");
            }
            Object args;
            if (arguments != null && arguments.isObject()) {
                args = plain(arguments);
            } else if (arguments != null && arguments.isTextual()) {
                args = arguments.asText();
            } else {
                throw new DatasetException(file, line, at + ".function.arguments must be a JSON object or string");
            }
            toolCalls.add(new ToolCall(optionalText(calls.get(i), "id", at, file, line), name.asText(), args));
        }
        return toolCalls;
    }

    private static String optionalText(JsonNode node, String field, String where, Path file, int line)
            throws DatasetException {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.isTextual()) {
            throw new DatasetException(file, line, where + "." + field + " must be a string");
        }
        return value.asText();
    }
}
