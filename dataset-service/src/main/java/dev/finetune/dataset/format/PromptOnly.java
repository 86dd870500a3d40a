package dev.finetune.dataset.format;

import com.fasterxml.jackson.databind.JsonNode;
import dev.finetune.dataset.clean.TextNormalizer;
import dev.finetune.dataset.validation.InvalidLineException;
import dev.finetune.dataset.validation.LineError;
import java.util.List;

/**
 * Prompt-only lines, for methods that sample their own completions (PPO, GRPO): TRL's prompt-only
 * format, {@code prompt} (a string, a user turn; or messages ending in a user turn), or a chat line
 * whose {@code messages} end in a user turn, each with an optional reference answer for rule rewards.
 *
 * <p>The reference is read from {@code reference} or, so that TRL datasets load as they are, from the
 * column names their reward functions commonly take: {@code solution} (open-r1), {@code ground_truth}
 * (TRL's reward examples) or {@code answer} (GSM8K). One line gives at most one of them; every one is
 * prepared as {@code reference}.
 *
 * <p>Tools are refused: the prepared prompt line is {@code {"prompt": [...], "reference": "..."}} and
 * carries no tool schemas, so a prompt that calls tools would be sampled without them.
 */
final class PromptOnly {
    /** Where a line may give its reference answer, the canonical name first. */
    static final List<String> REFERENCE_FIELDS = List.of("reference", "solution", "ground_truth", "answer");
    /** The fields that make a {@code prompt} line something else than a prompt. */
    private static final List<String> ANSWER_FIELDS = List.of("completion", "chosen", "rejected", "label");

    private PromptOnly() {}

    /** Whether the object has a {@code prompt} and no answer to it: TRL's prompt-only format. */
    static boolean hasPromptAlone(JsonNode root) {
        return root.has("prompt") && answerField(root) == null;
    }

    /** The first field that gives the object an answer ({@code completion}, {@code chosen}, ...), or null. */
    static String answerField(JsonNode root) {
        return ANSWER_FIELDS.stream().filter(root::has).findFirst().orElse(null);
    }

    /** Whether the object gives a reference answer under any of {@link #REFERENCE_FIELDS}. */
    static boolean hasReference(JsonNode root) {
        return REFERENCE_FIELDS.stream().anyMatch(f -> root.hasNonNull(f));
    }

    /** A {@code prompt} line: a string (one user turn) or turns ending in a user turn, no tool calls. */
    static CanonicalExample fromPrompt(long n, JsonNode root) throws InvalidLineException {
        JsonNode prompt = root.get("prompt");
        List<Message> turns = prompt != null && prompt.isTextual()
                ? List.of(new Message("user", LineParser.requiredText(n, root, "prompt", "prompt")))
                : LineParser.messages(n, prompt, "prompt", false);
        LineParser.checkConversation(n, "prompt", turns, false);
        return CanonicalExample.prompt(turns, reference(n, root));
    }

    /**
     * A chat line's {@code messages} (already parsed, with its {@code tools}) as a prompt: they must end
     * in a user turn, and neither call tools nor carry their results.
     */
    static CanonicalExample fromMessages(long n, JsonNode root, List<Message> messages, List<JsonNode> tools)
            throws InvalidLineException {
        if (!tools.isEmpty()) {
            throw invalid(n, "tools", "are not accepted in a prompt: prepared prompts carry no tools", null);
        }
        for (int i = 0; i < messages.size(); i++) {
            Message m = messages.get(i);
            if (!m.toolCalls().isEmpty()) {
                throw invalid(
                        n,
                        "messages[" + i + "].tool_calls",
                        "are not accepted in a prompt: prepared prompts carry no tools",
                        null);
            }
            if (m.role().equals("tool")) {
                throw invalid(
                        n, "messages[" + i + "].role", "must be one of system, user, assistant in a prompt", m.role());
            }
        }
        LineParser.checkConversation(n, "messages", messages, false);
        return CanonicalExample.prompt(messages, reference(n, root));
    }

    /** The reference answer, normalised; empty when the line gives none. */
    private static String reference(long n, JsonNode root) throws InvalidLineException {
        String given = null;
        for (String field : REFERENCE_FIELDS) {
            JsonNode node = root.get(field);
            if (node == null || node.isNull()) {
                continue;
            }
            if (given != null) {
                throw invalid(n, field, "gives the reference answer a second time (it is in " + given + ")", null);
            }
            given = field;
        }
        if (given == null) {
            return "";
        }
        JsonNode node = root.get(given);
        if (!node.isTextual()) {
            // Numbers too: "42" and 42.0 are different answers to a rule reward, so the dataset says which.
            throw invalid(
                    n,
                    given,
                    "must be a string (a number is written as one: \"42\")",
                    node.isValueNode()
                            ? node.asText()
                            : node.getNodeType().name().toLowerCase());
        }
        String text = TextNormalizer.normalize(node.textValue());
        if (text.isEmpty()) {
            throw invalid(n, given, "must not be empty (leave it out when there is none)", null);
        }
        return text;
    }

    private static InvalidLineException invalid(long line, String field, String reason, String value) {
        return new InvalidLineException(LineError.of(line, field, reason, value));
    }
}
