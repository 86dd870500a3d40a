package dev.finetune.dataset.clean;

import java.text.Normalizer;

/**
 * The cleaning every text field gets before validation and de-duplication: Unicode NFC (so "é" typed
 * two ways is one string), CRLF and CR to LF, control and zero-width characters removed (tabs and
 * newlines kept: code and lists depend on them), trailing spaces of each line and leading/trailing
 * blank space of the whole text removed. Inner whitespace is kept as is: indentation is content.
 */
public final class TextNormalizer {
    private TextNormalizer() {}

    public static String normalize(String text) {
        String nfc = Normalizer.isNormalized(text, Normalizer.Form.NFC)
                ? text
                : Normalizer.normalize(text, Normalizer.Form.NFC);
        StringBuilder out = new StringBuilder(nfc.length());
        int lineStart = 0;
        for (int i = 0; i < nfc.length(); i++) {
            char c = nfc.charAt(i);
            if (c == '\r') {
                if (i + 1 < nfc.length() && nfc.charAt(i + 1) == '\n') {
                    continue; // CRLF: the LF follows
                }
                c = '\n';
            }
            if (c == '\n') {
                trimTrailingSpaces(out, lineStart);
                out.append('\n');
                lineStart = out.length();
            } else if (c == '\t' || !isInvisible(c)) {
                out.append(c);
            }
        }
        trimTrailingSpaces(out, lineStart);
        return out.toString().strip();
    }

    private static boolean isInvisible(char c) {
        if (Character.isISOControl(c)) {
            return true;
        }
        return c == '\u200B' || c == '\u200C' || c == '\u200D' || c == '\u2060' || c == '\uFEFF';
    }

    private static void trimTrailingSpaces(StringBuilder out, int lineStart) {
        int end = out.length();
        while (end > lineStart && (out.charAt(end - 1) == ' ' || out.charAt(end - 1) == '\t')) {
            end--;
        }
        out.setLength(end);
    }
}
