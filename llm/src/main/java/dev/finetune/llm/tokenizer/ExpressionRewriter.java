package dev.finetune.llm.tokenizer;

import static dev.finetune.llm.tokenizer.ExpressionTokens.WORD_OPERATORS;
import static dev.finetune.llm.tokenizer.ExpressionTokens.endsOperand;
import static dev.finetune.llm.tokenizer.ExpressionTokens.findTopLevel;
import static dev.finetune.llm.tokenizer.ExpressionTokens.join;
import static dev.finetune.llm.tokenizer.ExpressionTokens.lex;
import static dev.finetune.llm.tokenizer.ExpressionTokens.matchingCloser;
import static dev.finetune.llm.tokenizer.ExpressionTokens.matchingOpener;
import static dev.finetune.llm.tokenizer.ExpressionTokens.nextSignificant;
import static dev.finetune.llm.tokenizer.ExpressionTokens.op;
import static dev.finetune.llm.tokenizer.ExpressionTokens.previousSignificant;
import static dev.finetune.llm.tokenizer.ExpressionTokens.topLevel;

import dev.finetune.llm.tokenizer.ExpressionTokens.Kind;
import dev.finetune.llm.tokenizer.ExpressionTokens.Token;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The expression-level rewrites of {@link Jinja2Rewriter}, applied to the inside of one
 * {@code {{ }}} or {@code {% %}} tag: the text is split into {@link ExpressionTokens}, rewrites
 * insert or replace tokens, and the result is joined back.
 */
final class ExpressionRewriter {
    /** Words after which {@code not} is the prefix operator (not {@code is not} / {@code not in}). */
    private static final Set<String> PREFIX_NOT_AFTER = Set.of("and", "or", "not", "in", "if", "else", "elif");

    private static final String[] DELIMITERS = {"{{", "{%", "{#", "}}", "%}", "#}"};

    private ExpressionRewriter() {}

    /** The filters and tests a template names, so missing ones fail loudly (Jinjava skips them silently). */
    record Usage(Set<String> filters, Set<String> tests) {
        Usage() {
            this(new TreeSet<>(), new TreeSet<>());
        }
    }

    /** Rewrites the inside of a {@code {{ }}} tag, recording the filters and tests it uses. */
    static String expression(String inner, Usage usage) {
        List<Token> tokens = lex(inner);
        recordUsage(tokens, usage);
        rewriteExpressions(tokens, true);
        return join(tokens, 0, tokens.size());
    }

    /** Rewrites the inside of a {@code {% %}} tag, recording the filters and tests it uses. */
    static String statement(String inner, Usage usage) {
        List<Token> tokens = lex(inner);
        recordUsage(tokens, usage);
        int kw = nextSignificant(tokens, 0);
        String keyword = kw < 0 ? "" : tokens.get(kw).text();
        switch (keyword) {
            case "generation":
                return " if true ";
            case "endgeneration":
                return " endif ";
            default:
                break;
        }
        // Macro and call signatures take default values, not call arguments; leave them alone.
        boolean signature = keyword.equals("macro") || keyword.equals("call");
        rewriteExpressions(tokens, !signature);
        if (keyword.equals("for")) {
            return rewriteForIf(tokens, kw);
        }
        return join(tokens, 0, tokens.size());
    }

    private static void recordUsage(List<Token> tokens, Usage usage) {
        for (int i = 0; i < tokens.size(); i++) {
            Token t = tokens.get(i);
            int next = nextSignificant(tokens, i + 1);
            if (next < 0) {
                return;
            }
            if (t.is("|") && tokens.get(next).kind() == Kind.NAME) {
                usage.filters().add(tokens.get(next).text());
            } else if (t.is("is")) {
                if (tokens.get(next).is("not")) {
                    next = nextSignificant(tokens, next + 1);
                }
                if (next > 0 && tokens.get(next).kind() == Kind.NAME) {
                    usage.tests().add(tokens.get(next).text());
                }
            }
        }
    }

    private static void rewriteExpressions(List<Token> tokens, boolean keywordArguments) {
        for (int i = 0; i < tokens.size(); i++) {
            Token t = tokens.get(i);
            if (t.kind() == Kind.STRING) {
                tokens.set(i, new Token(Kind.STRING, jinjavaLiteral(PythonLiterals.decode(t.text()))));
            }
        }
        rewriteStepSlices(tokens);
        if (keywordArguments) {
            while (parenthesiseOneKeywordValue(tokens)) {
                // each pass wraps one value; wrapped values never need wrapping again
            }
        }
        parenthesisePrefixNot(tokens);
    }

    /** {@code for x in xs if cond} -> {@code for x in (xs)|__loop_if('x', 'cond')}. */
    private static String rewriteForIf(List<Token> tokens, int forIndex) {
        int in = findTopLevel(tokens, forIndex + 1, "in");
        int cond = in < 0 ? -1 : findTopLevel(tokens, in + 1, "if");
        if (cond < 0) {
            return join(tokens, 0, tokens.size());
        }
        int condEnd = tokens.size();
        int last = previousSignificant(tokens, tokens.size());
        boolean recursive = last > cond && tokens.get(last).is("recursive");
        if (recursive) {
            condEnd = last;
        }
        String targets = join(tokens, forIndex + 1, in).strip();
        String iterable = join(tokens, in + 1, cond).strip();
        String condition = join(tokens, cond + 1, condEnd).strip();
        return join(tokens, 0, forIndex) + "for " + targets + " in (" + iterable + ")|__loop_if("
                + jinjavaLiteral(targets) + ", " + jinjavaLiteral(condition) + ")" + (recursive ? " recursive " : " ");
    }

    /** {@code chain[a:b:c]} -> {@code (chain|__pyslice(a, b, c))}; Jinjava's brackets take no step. */
    private static void rewriteStepSlices(List<Token> tokens) {
        for (int i = 0; i < tokens.size(); i++) {
            if (!tokens.get(i).is("[")) {
                continue;
            }
            int before = previousSignificant(tokens, i);
            if (before < 0 || !endsOperand(tokens.get(before))) {
                continue;
            }
            int close = matchingCloser(tokens, i);
            List<Integer> colons = topLevel(tokens, i + 1, close, ":");
            if (close < 0 || colons.size() != 2) {
                continue;
            }
            int chainStart = chainStart(tokens, before);
            List<Token> replacement = new ArrayList<>(tokens.subList(0, chainStart));
            replacement.add(op("("));
            replacement.addAll(tokens.subList(chainStart, i));
            replacement.add(op("|"));
            replacement.add(new Token(Kind.NAME, "__pyslice"));
            replacement.add(op("("));
            replacement.addAll(sliceBound(tokens, i + 1, colons.get(0)));
            replacement.add(op(","));
            replacement.addAll(sliceBound(tokens, colons.get(0) + 1, colons.get(1)));
            replacement.add(op(","));
            replacement.addAll(sliceBound(tokens, colons.get(1) + 1, close));
            replacement.add(op(")"));
            replacement.add(op(")"));
            replacement.addAll(tokens.subList(close + 1, tokens.size()));
            tokens.clear();
            tokens.addAll(replacement);
            i = chainStart;
        }
    }

    private static List<Token> sliceBound(List<Token> tokens, int from, int to) {
        List<Token> bound = new ArrayList<>(tokens.subList(from, to));
        bound.removeIf(t -> t.kind() == Kind.WS);
        return bound.isEmpty() ? List.of(new Token(Kind.NAME, "none")) : bound;
    }

    /** First token of the postfix chain ({@code a.b(c)[d]}) that ends at {@code last}. */
    private static int chainStart(List<Token> tokens, int last) {
        int k = last;
        while (true) {
            Token t = tokens.get(k);
            int start = t.isCloser() ? matchingOpener(tokens, k) : k;
            if (start < 0) {
                return k;
            }
            int p = previousSignificant(tokens, start);
            if (t.isCloser()) {
                if (p >= 0 && endsOperand(tokens.get(p)) && !tokens.get(start).is("{")) {
                    k = p; // call or subscript of what precedes
                    continue;
                }
                return start;
            }
            if (p >= 0 && tokens.get(p).is(".")) {
                k = previousSignificant(tokens, p);
                if (k < 0) {
                    return p;
                }
                continue;
            }
            return start;
        }
    }

    /** Wraps the first keyword-argument value that is an expression in parentheses. */
    private static boolean parenthesiseOneKeywordValue(List<Token> tokens) {
        for (int i = 0; i < tokens.size(); i++) {
            if (!tokens.get(i).is("(")) {
                continue;
            }
            int before = previousSignificant(tokens, i);
            int close = matchingCloser(tokens, i);
            if (before < 0 || !endsOperand(tokens.get(before)) || close < 0) {
                continue;
            }
            List<Integer> bounds = topLevel(tokens, i + 1, close, ",");
            bounds.add(close);
            int argStart = i + 1;
            for (int argEnd : bounds) {
                int name = nextSignificant(tokens, argStart);
                int eq = name < 0 ? -1 : nextSignificant(tokens, name + 1);
                if (name >= 0
                        && name < argEnd
                        && tokens.get(name).kind() == Kind.NAME
                        && eq > 0
                        && eq < argEnd
                        && tokens.get(eq).is("=")
                        && needsParentheses(tokens, eq + 1, argEnd)) {
                    tokens.add(argEnd, op(")"));
                    tokens.add(eq + 1, op("("));
                    return true;
                }
                argStart = argEnd + 1;
            }
        }
        return false;
    }

    private static boolean needsParentheses(List<Token> tokens, int from, int to) {
        int first = nextSignificant(tokens, from);
        int last = previousSignificant(tokens, to);
        if (first < 0 || first > last || (tokens.get(first).is("(") && matchingCloser(tokens, first) == last)) {
            return false;
        }
        int depth = 0;
        for (int k = first; k <= last; k++) {
            Token t = tokens.get(k);
            if (t.isOpener()) {
                depth++;
            } else if (t.isCloser()) {
                depth--;
            } else if (depth == 0
                    && (t.kind() == Kind.OP && !t.is(".")
                            || t.kind() == Kind.NAME && WORD_OPERATORS.contains(t.text()))) {
                return true;
            }
        }
        return false;
    }

    /** {@code not a == b} -> {@code not (a == b)}: Jinja2's {@code not} binds looser than comparisons. */
    private static void parenthesisePrefixNot(List<Token> tokens) {
        for (int i = 0; i < tokens.size(); i++) {
            if (!tokens.get(i).is("not")) {
                continue;
            }
            int before = previousSignificant(tokens, i);
            boolean prefix = before < 0
                    || (tokens.get(before).kind() == Kind.OP
                            && !tokens.get(before).isCloser())
                    || (tokens.get(before).kind() == Kind.NAME
                            && PREFIX_NOT_AFTER.contains(tokens.get(before).text()));
            if (!prefix) {
                continue;
            }
            int end = operandEnd(tokens, i + 1);
            tokens.add(end, op(")"));
            tokens.add(i + 1, op("("));
        }
    }

    private static int operandEnd(List<Token> tokens, int from) {
        int depth = 0;
        for (int k = from; k < tokens.size(); k++) {
            Token t = tokens.get(k);
            if (t.isOpener()) {
                depth++;
            } else if (t.isCloser()) {
                if (depth == 0) {
                    return k;
                }
                depth--;
            } else if (depth == 0
                    && (t.is(",") || t.is(":") || t.is("and") || t.is("or") || t.is("if") || t.is("else"))) {
                return k;
            }
        }
        return tokens.size();
    }

    /**
     * A Jinjava string literal for {@code value}: backslash, quote and line breaks escaped, other
     * characters as they are. A value containing a tag delimiter is split into a {@code ~}
     * concatenation so no delimiter appears in the source.
     */
    static String jinjavaLiteral(String value) {
        List<String> pieces = new ArrayList<>();
        int start = 0;
        for (int i = 1; i < value.length(); i++) {
            for (String delimiter : DELIMITERS) {
                if (value.startsWith(delimiter, i - 1)) {
                    pieces.add(value.substring(start, i));
                    start = i;
                    break;
                }
            }
        }
        pieces.add(value.substring(start));
        List<String> quoted = pieces.stream()
                .map(p -> "'"
                        + p.replace("\\", "\\\\")
                                .replace("'", "\\'")
                                .replace("\n", "\\n")
                                .replace("\r", "\\r") + "'")
                .toList();
        return quoted.size() == 1 ? quoted.get(0) : "(" + String.join(" ~ ", quoted) + ")";
    }
}
