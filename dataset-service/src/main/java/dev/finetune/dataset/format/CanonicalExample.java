package dev.finetune.dataset.format;

import java.util.List;

/**
 * Every accepted line in one shape, whatever format it arrived in. Supervised examples are a
 * conversation ending in an assistant turn ({@code rejected} is null); preference examples are a
 * prompt conversation with a chosen and a rejected assistant answer, as HuggingFace TRL's
 * conversational preference format has them.
 *
 * @param messages the conversation (SFT) or the prompt (preference), never empty
 * @param chosen the preferred assistant answer (preference only), else null
 * @param rejected the dispreferred assistant answer (preference only), else null
 */
public record CanonicalExample(List<Message> messages, List<Message> chosen, List<Message> rejected) {

    public static CanonicalExample sft(List<Message> messages) {
        return new CanonicalExample(List.copyOf(messages), null, null);
    }

    public static CanonicalExample preference(List<Message> prompt, List<Message> chosen, List<Message> rejected) {
        return new CanonicalExample(List.copyOf(prompt), List.copyOf(chosen), List.copyOf(rejected));
    }

    public boolean isPreference() {
        return chosen != null;
    }

    /** All text of the example, for de-duplication and length checks. */
    public String text() {
        StringBuilder text = new StringBuilder();
        append(text, messages);
        if (isPreference()) {
            append(text, chosen);
            append(text, rejected);
        }
        return text.toString();
    }

    /** Total characters of content. */
    public long characters() {
        long n = 0;
        for (Message m : messages) {
            n += m.content().length();
        }
        if (isPreference()) {
            for (Message m : chosen) {
                n += m.content().length();
            }
            for (Message m : rejected) {
                n += m.content().length();
            }
        }
        return n;
    }

    private static void append(StringBuilder text, List<Message> turns) {
        for (Message m : turns) {
            text.append(m.role()).append('\u0000').append(m.content()).append('\u0001');
        }
    }
}
