package dev.finetune.llm.train;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * A synthetic preference task: asked to repeat a made-up word, the chosen reply writes it in lower
 * case and the rejected one in upper case. Held-out pairs use words never trained on, so preferring
 * them needs the general preference, not the words.
 */
final class CasePreferenceTask {
    private CasePreferenceTask() {}

    static List<String> training() {
        return words(32, 1);
    }

    static List<String> heldOut() {
        return words(16, 2);
    }

    /** Preference lines in the conversational form, prompt and completions as message lists. */
    static List<String> lines(List<String> words) {
        List<String> lines = new ArrayList<>();
        for (String word : words) {
            lines.add(CapitalsTask.json(CapitalsTask.ordered(
                    "prompt", List.of(CapitalsTask.ordered("role", "user", "content", "Repeat: " + word)),
                    "chosen", List.of(CapitalsTask.ordered("role", "assistant", "content", word)),
                    "rejected",
                            List.of(CapitalsTask.ordered(
                                    "role", "assistant", "content", word.toUpperCase(Locale.ROOT))))));
        }
        return lines;
    }

    /**
     * Unpaired lines in TRL's KTO form, prompt and completion as message lists: each word once,
     * alternately its desirable (lower-case) and its undesirable (upper-case) reply, so no prompt has
     * both.
     */
    static List<String> unpairedLines(List<String> words) {
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < words.size(); i++) {
            String word = words.get(i);
            boolean desirable = i % 2 == 0;
            lines.add(CapitalsTask.json(CapitalsTask.ordered(
                    "prompt", List.of(CapitalsTask.ordered("role", "user", "content", "Repeat: " + word)),
                    "completion",
                            List.of(CapitalsTask.ordered(
                                    "role", "assistant", "content", desirable ? word : word.toUpperCase(Locale.ROOT))),
                    "label", desirable)));
        }
        return lines;
    }

    private static List<String> words(int count, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        List<String> words = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            StringBuilder word = new StringBuilder();
            int length = 4 + random.nextInt(3);
            for (int c = 0; c < length; c++) {
                word.append((char) ('a' + random.nextInt(26)));
            }
            words.add(word.toString());
        }
        return words;
    }
}
