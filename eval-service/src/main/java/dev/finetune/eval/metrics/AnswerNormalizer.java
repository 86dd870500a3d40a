package dev.finetune.eval.metrics;

import java.text.Normalizer;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * SQuAD's answer normalisation, applied to both sides before exact match and token F1: Unicode NFKC,
 * lower case, every punctuation character (Unicode category P) removed, the English articles
 * "a", "an", "the" removed as whole words, whitespace collapsed and trimmed. A leading reasoning
 * block {@code <think>...</think>} (Qwen3 templates put an empty one in each answer) is dropped
 * first, so it never counts against an answer.
 */
public final class AnswerNormalizer {
    private static final Pattern THINK_BLOCK = Pattern.compile("^\\s*<think>.*?</think>", Pattern.DOTALL);
    private static final Pattern PUNCTUATION = Pattern.compile("\\p{P}");
    private static final Pattern ARTICLES = Pattern.compile("\\b(a|an|the)\\b");
    private static final Pattern WHITESPACE = Pattern.compile("\\s+");

    private AnswerNormalizer() {}

    public static String normalize(String text) {
        String s = withoutThinkBlock(text);
        s = Normalizer.normalize(s, Normalizer.Form.NFKC).toLowerCase(Locale.ROOT);
        s = PUNCTUATION.matcher(s).replaceAll("");
        s = ARTICLES.matcher(s).replaceAll(" ");
        return WHITESPACE.matcher(s).replaceAll(" ").trim();
    }

    /** {@code text} without a leading {@code <think>...</think>} block. */
    public static String withoutThinkBlock(String text) {
        return THINK_BLOCK.matcher(text).replaceFirst("");
    }

    /** The normalised text split on spaces; empty for a text with no words. */
    public static List<String> tokens(String text) {
        String normalized = normalize(text);
        return normalized.isEmpty() ? List.of() : Arrays.asList(normalized.split(" "));
    }
}
