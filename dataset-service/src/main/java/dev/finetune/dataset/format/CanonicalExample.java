package dev.finetune.dataset.format;

import com.fasterxml.jackson.databind.JsonNode;
import dev.finetune.events.DatasetKind;
import java.util.List;

/**
 * Every accepted line in one shape, whatever format it arrived in. Supervised examples are a
 * conversation ending in an assistant turn ({@code chosen} and {@code rejected} are null); preference
 * examples are a prompt conversation with a chosen and a rejected assistant answer, as HuggingFace
 * TRL's conversational preference format has them; unpaired preference examples (KTO) are a prompt
 * with one answer in {@code chosen} ({@code rejected} empty) and its label; prompt-only examples (PPO,
 * GRPO) are a prompt conversation ending in a user turn with an optional reference answer.
 *
 * @param messages the conversation (SFT) or the prompt (preference, prompt-only), never empty
 * @param chosen the preferred assistant answer (preference), the labelled answer (unpaired), else null
 * @param rejected the dispreferred assistant answer (preference), empty (unpaired), else null
 * @param label whether the answer is desirable (unpaired only), else null
 * @param choices a multiple-choice question's choices, else null
 * @param answer the index of its right choice, else null
 * @param tokens a pre-tokenized example's ids and trained positions (messages empty), else null
 * @param tools the function schemas a conversation may call (OpenAI / HuggingFace {@code tools}), else empty
 * @param reference a prompt-only example's reference answer, empty when it has none; null for every other kind
 */
public record CanonicalExample(
        List<Message> messages,
        List<Message> chosen,
        List<Message> rejected,
        Boolean label,
        List<String> choices,
        Integer answer,
        TokenizedRow tokens,
        List<JsonNode> tools,
        String reference) {

    public CanonicalExample {
        tools = List.copyOf(tools);
    }

    public static CanonicalExample sft(List<Message> messages) {
        return sft(messages, List.of());
    }

    /** A conversation that may call the functions in {@code tools}. */
    public static CanonicalExample sft(List<Message> messages, List<JsonNode> tools) {
        return new CanonicalExample(List.copyOf(messages), null, null, null, null, null, null, tools, null);
    }

    public static CanonicalExample preference(List<Message> prompt, List<Message> chosen, List<Message> rejected) {
        return new CanonicalExample(
                List.copyOf(prompt),
                List.copyOf(chosen),
                List.copyOf(rejected),
                null,
                null,
                null,
                null,
                List.of(),
                null);
    }

    public static CanonicalExample unpaired(List<Message> prompt, List<Message> completion, boolean desirable) {
        return new CanonicalExample(
                List.copyOf(prompt), List.copyOf(completion), List.of(), desirable, null, null, null, List.of(), null);
    }

    /**
     * A multiple-choice question: the conversation is the question and its right choice (what SFT
     * learns), and the choices with the right one's index are kept for task accuracy.
     */
    public static CanonicalExample multipleChoice(String question, List<String> choices, int answer) {
        return new CanonicalExample(
                List.of(new Message("user", question), new Message("assistant", choices.get(answer))),
                null,
                null,
                null,
                List.copyOf(choices),
                answer,
                null,
                List.of(),
                null);
    }

    /** A pre-tokenized example: no text, its ids and trained positions only. */
    public static CanonicalExample tokenized(TokenizedRow tokens) {
        return new CanonicalExample(List.of(), null, null, null, null, null, tokens, List.of(), null);
    }

    /**
     * A prompt without an answer, for methods that sample their own (PPO, GRPO).
     *
     * @param prompt turns ending in a user turn
     * @param reference the reference answer for rule rewards, empty if there is none
     */
    public static CanonicalExample prompt(List<Message> prompt, String reference) {
        java.util.Objects.requireNonNull(reference, "reference (empty when there is none)");
        return new CanonicalExample(List.copyOf(prompt), null, null, null, null, null, null, List.of(), reference);
    }

    /** Whether the example has answers apart from its prompt (a pair, or one labelled answer). */
    public boolean isPreference() {
        return chosen != null;
    }

    /** Whether the example is a prompt alone (its reference, if any, is no answer the model is trained on). */
    public boolean isPromptOnly() {
        return reference != null;
    }

    /** What the example can train. */
    public DatasetKind kind() {
        if (isPromptOnly()) {
            return DatasetKind.PROMPT;
        }
        if (label != null) {
            return DatasetKind.UNPAIRED_PREFERENCE;
        }
        if (choices != null) {
            return DatasetKind.MULTIPLE_CHOICE;
        }
        if (tokens != null) {
            return DatasetKind.TOKENIZED;
        }
        return chosen != null ? DatasetKind.PREFERENCE : DatasetKind.SFT;
    }

    /**
     * All text of the example, roles included: what token estimates are made from. A prompt's reference
     * counts as the assistant turn that would answer it (what a sampled completion costs, roughly).
     */
    public String text() {
        StringBuilder text = new StringBuilder();
        append(text, messages);
        if (isPreference()) {
            append(text, chosen);
            append(text, rejected);
        }
        if (isPromptOnly() && !reference.isEmpty()) {
            append(text, List.of(new Message("assistant", reference)));
        }
        return text.toString();
    }

    /**
     * The example as near-duplicate detection compares it: what is asked (system, user and tool
     * turns), then what is answered (the assistant turns with their tool calls, arguments included;
     * for a preference example the chosen and the rejected answer each; for a prompt-only example its
     * reference, empty without one, so that a prompt without a reference is de-duplicated exactly only:
     * rows of a template that differ in one short slot are different tasks).
     */
    public List<String> parts() {
        if (isPromptOnly()) {
            return List.of(contents(messages, null), reference);
        }
        if (isPreference()) {
            // The whole prompt conversation is what is asked, earlier assistant turns included.
            return List.of(contents(messages, null), contents(chosen, null), contents(rejected, null));
        }
        return List.of(contents(messages, false), contents(messages, true));
    }

    /** The contents of the turns (only assistant ones if {@code assistant}, only others if false, all if null). */
    private static String contents(List<Message> turns, Boolean assistant) {
        StringBuilder text = new StringBuilder();
        for (Message m : turns) {
            if (assistant == null || assistant == m.role().equals("assistant")) {
                text.append(m.text()).append('\n');
            }
        }
        return text.toString();
    }

    /** Total characters of content. */
    public long characters() {
        long n = 0;
        for (Message m : messages) {
            n += m.text().length();
        }
        if (choices != null) {
            for (String choice : choices) {
                n += choice.length();
            }
        }
        if (isPreference()) {
            for (Message m : chosen) {
                n += m.text().length();
            }
            for (Message m : rejected) {
                n += m.text().length();
            }
        }
        if (isPromptOnly()) {
            n += reference.length();
        }
        return n;
    }

    private static void append(StringBuilder text, List<Message> turns) {
        for (Message m : turns) {
            text.append(m.role()).append('\u0000').append(m.text()).append('\u0001');
        }
    }
}
