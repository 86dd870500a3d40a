package dev.finetune.llm.tokenizer;

/**
 * Decodes a Jinja2 string literal the way Jinja2's lexer does: strip the quotes, then Python's
 * {@code unicode-escape} ({@code \n}, {@code \t}, {@code \xhh}, &#92;uXXXX, &#92;UXXXXXXXX,
 * {@code \N{NAME}}, octal, backslash-newline). An unknown escape keeps its backslash, as in Python.
 */
final class PythonLiterals {
    private PythonLiterals() {}

    /** The value of {@code quoted}, a literal including its quotes. */
    static String decode(String quoted) {
        String body = quoted.length() >= 2 ? quoted.substring(1, quoted.length() - 1) : "";
        StringBuilder out = new StringBuilder(body.length());
        int i = 0;
        while (i < body.length()) {
            char c = body.charAt(i);
            if (c != '\\' || i + 1 == body.length()) {
                out.append(c);
                i++;
                continue;
            }
            char e = body.charAt(i + 1);
            i += 2;
            switch (e) {
                case '\n' -> {} // line continuation
                case '\\', '\'', '"' -> out.append(e);
                case 'a' -> out.append('\u0007');
                case 'b' -> out.append('\b');
                case 'f' -> out.append('\f');
                case 'n' -> out.append('\n');
                case 'r' -> out.append('\r');
                case 't' -> out.append('\t');
                case 'v' -> out.append('\u000b');
                case 'x', 'u', 'U' -> {
                    int digits = e == 'x' ? 2 : e == 'u' ? 4 : 8;
                    int codePoint = hex(body, i, digits);
                    if (codePoint < 0) {
                        out.append('\\').append(e);
                    } else {
                        out.appendCodePoint(codePoint);
                        i += digits;
                    }
                }
                case 'N' -> {
                    int close = body.indexOf('}', i);
                    int codePoint = -1;
                    if (i < body.length() && body.charAt(i) == '{' && close > i) {
                        try {
                            codePoint = Character.codePointOf(body.substring(i + 1, close));
                        } catch (IllegalArgumentException unknownName) {
                            codePoint = -1;
                        }
                    }
                    if (codePoint < 0) {
                        out.append('\\').append(e);
                    } else {
                        out.appendCodePoint(codePoint);
                        i = close + 1;
                    }
                }
                default -> {
                    if (e >= '0' && e <= '7') {
                        int value = e - '0';
                        for (int n = 0;
                                n < 2 && i < body.length() && body.charAt(i) >= '0' && body.charAt(i) <= '7';
                                n++) {
                            value = value * 8 + body.charAt(i++) - '0';
                        }
                        out.append((char) value);
                    } else {
                        out.append('\\').append(e);
                    }
                }
            }
        }
        return out.toString();
    }

    private static int hex(String s, int from, int digits) {
        if (from + digits > s.length()) {
            return -1;
        }
        int value = 0;
        for (int k = from; k < from + digits; k++) {
            int d = Character.digit(s.charAt(k), 16);
            if (d < 0) {
                return -1;
            }
            value = value * 16 + d;
        }
        return Character.isValidCodePoint(value) ? value : -1;
    }
}
