package dev.finetune.llm.tokenizer;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Rewrites Jinja2 template source, as HuggingFace chat templates are written, into Jinjava source
 * with the same meaning. Python Jinja2 is the reference; every rewrite exists because Jinjava reads
 * the original differently, and each is covered by a parity case rendered by Python Jinja2.
 *
 * <p>Whitespace control is applied here, as text, exactly as Jinja2's lexer does it with
 * {@code trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False}: newlines are
 * normalised to {@code \n}, one trailing newline is dropped, {@code -} markers strip all adjacent
 * whitespace, {@code +} markers keep it, a block or comment tag alone on its line loses its
 * indentation, and the newline after a block or comment tag is removed. The output has no markers
 * and is rendered with Jinjava's own trimming off (Jinjava's {@code lstripBlocks} also strips
 * spaces in the middle of a line, and it ignores {@code {{-}). Newlines removed this way are moved
 * inside the adjacent tag, so Jinjava's line numbers still match the template's.
 *
 * <p>Inside tags, {@link ExpressionRewriter} handles string literals, {@code not} precedence,
 * keyword-argument values, slice steps, {@code for ... if} and {@code {% generation %}}.
 * Comments and {@code {% raw %}} content are kept verbatim.
 */
final class Jinja2Rewriter {
    private static final Pattern END_RAW = Pattern.compile("\\{%([-+]?)\\s*endraw\\s*([-+]?)%}");

    /** Jinjava source and the filters and tests it calls. */
    record Rewritten(String source, ExpressionRewriter.Usage usage) {}

    private final String src;
    private final StringBuilder out;
    private final ExpressionRewriter.Usage usage = new ExpressionRewriter.Usage();
    private int pos;
    /** Jinja2's {@code line_starting}: the text before the next tag begins a line. */
    private boolean lineStarting = true;

    private Jinja2Rewriter(String src) {
        this.src = src;
        this.out = new StringBuilder(src.length() + 64);
    }

    /** Returns the Jinjava source for a Jinja2 template. */
    static Rewritten rewrite(String jinja2Source) {
        String src = jinja2Source.replace("\r\n", "\n").replace('\r', '\n');
        if (src.endsWith("\n")) {
            src = src.substring(0, src.length() - 1);
        }
        Jinja2Rewriter rewriter = new Jinja2Rewriter(src);
        rewriter.run();
        return new Rewritten(rewriter.out.toString(), rewriter.usage);
    }

    private void run() {
        while (pos < src.length()) {
            int open = nextTagStart(pos);
            if (open < 0) {
                out.append(src, pos, src.length());
                return;
            }
            char kind = src.charAt(open + 1);
            char startMarker = marker(open + 2);
            int innerStart = open + 2 + (startMarker == 0 ? 0 : 1);
            int close = kind == '#' ? src.indexOf("#}", innerStart) : findTagEnd(innerStart, kind == '{' ? '}' : '%');
            if (close < 0) { // unterminated: leave it for Jinjava to report
                out.append(src, pos, src.length());
                return;
            }
            char endMarker =
                    close > innerStart && (kind != '{' || src.charAt(close - 1) == '-') ? marker(close - 1) : 0;
            int innerEnd = close - (endMarker == 0 ? 0 : 1);
            String inner = src.substring(innerStart, innerEnd);
            int newlinesBefore = appendTextBefore(open, startMarker, kind != '{');
            int after = close + 2;
            if (kind == '%' && inner.strip().equals("raw")) {
                // Jinja2 does not trim the newline after {% raw %}; only a '-' marker strips.
                out.append("{% raw %}");
                pos = after;
                lineStarting = false;
                if (endMarker == '-') {
                    pos = skipWhitespace(after);
                    lineStarting = pos > after && src.charAt(pos - 1) == '\n';
                }
                copyRawBody();
                continue;
            }
            int trailing = consumeAfter(after, endMarker, kind != '{');
            String body =
                    switch (kind) {
                        case '%' -> ExpressionRewriter.statement(inner, usage);
                        case '{' -> ExpressionRewriter.expression(inner, usage);
                        default -> inner;
                    };
            String closer = kind == '%' ? "%}" : kind == '{' ? "}}" : "#}";
            out.append('{').append(kind).append("\n".repeat(newlinesBefore));
            if (newlinesBefore == 0 && (body.startsWith("-") || body.startsWith("+"))) {
                out.append(' '); // not a whitespace marker
            }
            out.append(body);
            out.append("\n".repeat(trailing)).append(closer);
        }
    }

    /**
     * Appends the text between {@link #pos} and a tag at {@code open}, stripped as Jinja2 strips it,
     * and returns how many newlines were stripped.
     */
    private int appendTextBefore(int open, char startMarker, boolean blockOrComment) {
        String text = src.substring(pos, open);
        String kept = text;
        if (startMarker == '-') {
            kept = PythonStrings.strip(text, null, false, true);
        } else if (startMarker != '+' && blockOrComment) {
            int lineStart = text.lastIndexOf('\n') + 1;
            String indent = text.substring(lineStart);
            if ((lineStart > 0 || lineStarting)
                    && !indent.isEmpty()
                    && indent.codePoints().allMatch(PythonStrings::isSpace)) {
                kept = text.substring(0, lineStart);
            }
        }
        out.append(kept);
        return count(text.substring(kept.length()), '\n');
    }

    /** Consumes what Jinja2 strips after a tag end; returns the number of newlines consumed. */
    private int consumeAfter(int after, char endMarker, boolean blockOrComment) {
        int end = after;
        if (endMarker == '-') {
            end = skipWhitespace(after);
        } else if (endMarker != '+' && blockOrComment && after < src.length() && src.charAt(after) == '\n') {
            end = after + 1; // trim_blocks
        }
        lineStarting = end > after && src.charAt(end - 1) == '\n';
        pos = end;
        return count(src.substring(after, end), '\n');
    }

    /** Copies a raw block's body verbatim up to and including {@code {% endraw %}}. */
    private void copyRawBody() {
        Matcher endRaw = END_RAW.matcher(src);
        if (!endRaw.find(pos)) {
            out.append(src, pos, src.length());
            pos = src.length();
            return;
        }
        char startMarker = endRaw.group(1).isEmpty() ? 0 : endRaw.group(1).charAt(0);
        char endMarker = endRaw.group(2).isEmpty() ? 0 : endRaw.group(2).charAt(0);
        appendTextBefore(endRaw.start(), startMarker, true);
        out.append("{% endraw %}");
        consumeAfter(endRaw.end(), endMarker, true);
    }

    private char marker(int i) {
        if (i < src.length() && (src.charAt(i) == '-' || src.charAt(i) == '+')) {
            return src.charAt(i);
        }
        return 0;
    }

    private int skipWhitespace(int from) {
        int i = from;
        while (i < src.length() && PythonStrings.isSpace(src.codePointAt(i))) {
            i += Character.charCount(src.codePointAt(i));
        }
        return i;
    }

    private static int count(String s, char c) {
        return (int) s.chars().filter(x -> x == c).count();
    }

    private int nextTagStart(int from) {
        for (int i = src.indexOf('{', from); i >= 0 && i + 1 < src.length(); i = src.indexOf('{', i + 1)) {
            char next = src.charAt(i + 1);
            if (next == '{' || next == '%' || next == '#') {
                return i;
            }
        }
        return -1;
    }

    /**
     * Index of the closing delimiter ({@code }}} or {@code %}}) of a tag whose inside starts at
     * {@code from}, skipping string literals and balanced brackets as Jinja2's lexer does; -1 if
     * the tag is not closed.
     */
    private int findTagEnd(int from, char closer) {
        int depth = 0;
        char quote = 0;
        for (int i = from; i < src.length(); i++) {
            char c = src.charAt(i);
            if (quote != 0) {
                if (c == '\\') {
                    i++;
                } else if (c == quote) {
                    quote = 0;
                }
            } else if (c == '\'' || c == '"') {
                quote = c;
            } else if (c == '(' || c == '[' || c == '{') {
                depth++;
            } else if (depth == 0 && c == closer && i + 1 < src.length() && src.charAt(i + 1) == '}') {
                return i;
            } else if (c == ')' || c == ']' || c == '}') {
                depth = Math.max(0, depth - 1);
            }
        }
        return -1;
    }
}
