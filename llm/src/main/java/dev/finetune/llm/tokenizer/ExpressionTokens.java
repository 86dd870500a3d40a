package dev.finetune.llm.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The tokens inside one Jinja tag (names, numbers, string literals, operators, whitespace) and the
 * navigation {@link ExpressionRewriter} needs: matching brackets, the next or previous
 * non-whitespace token, operators at the top nesting level.
 */
final class ExpressionTokens {
    enum Kind {
        WS,
        NAME,
        NUMBER,
        STRING,
        OP
    }

    record Token(Kind kind, String text) {
        boolean is(String s) {
            return kind != Kind.STRING && kind != Kind.WS && text.equals(s);
        }

        boolean isOpener() {
            return kind == Kind.OP && (text.equals("(") || text.equals("[") || text.equals("{"));
        }

        boolean isCloser() {
            return kind == Kind.OP && (text.equals(")") || text.equals("]") || text.equals("}"));
        }
    }

    /** Names that are operators, so a value does not end with them and an operand does not start after them. */
    static final Set<String> WORD_OPERATORS = Set.of("and", "or", "not", "in", "is", "if", "else", "elif");

    private static final Set<String> TWO_CHAR_OPS = Set.of("==", "!=", "<=", ">=", "//", "**");

    private ExpressionTokens() {}

    /** Splits the inside of a tag into tokens; joining their texts gives it back unchanged. */
    static List<Token> lex(String text) {
        List<Token> tokens = new ArrayList<>();
        int i = 0;
        while (i < text.length()) {
            char c = text.charAt(i);
            int j = i + 1;
            Kind kind;
            if (Character.isWhitespace(c)) {
                kind = Kind.WS;
                while (j < text.length() && Character.isWhitespace(text.charAt(j))) {
                    j++;
                }
            } else if (Character.isLetter(c) || c == '_') {
                kind = Kind.NAME;
                while (j < text.length() && (Character.isLetterOrDigit(text.charAt(j)) || text.charAt(j) == '_')) {
                    j++;
                }
            } else if (Character.isDigit(c)) {
                kind = Kind.NUMBER;
                while (j < text.length()
                        && (Character.isLetterOrDigit(text.charAt(j))
                                || text.charAt(j) == '_'
                                || (text.charAt(j) == '.'
                                        && j + 1 < text.length()
                                        && Character.isDigit(text.charAt(j + 1))))) {
                    j++;
                }
            } else if (c == '\'' || c == '"') {
                kind = Kind.STRING;
                while (j < text.length() && text.charAt(j) != c) {
                    j += text.charAt(j) == '\\' ? 2 : 1;
                }
                j = Math.min(j + 1, text.length());
            } else {
                kind = Kind.OP;
                if (j < text.length() && TWO_CHAR_OPS.contains(text.substring(i, j + 1))) {
                    j++;
                }
            }
            tokens.add(new Token(kind, text.substring(i, j)));
            i = j;
        }
        return tokens;
    }

    static boolean endsOperand(Token t) {
        return switch (t.kind()) {
            case NAME -> !WORD_OPERATORS.contains(t.text());
            case NUMBER, STRING -> true;
            case OP -> t.isCloser();
            case WS -> false;
        };
    }

    static int findTopLevel(List<Token> tokens, int from, String word) {
        int depth = 0;
        for (int k = from; k < tokens.size(); k++) {
            Token t = tokens.get(k);
            if (t.isOpener()) {
                depth++;
            } else if (t.isCloser()) {
                depth--;
            } else if (depth == 0 && t.is(word)) {
                return k;
            }
        }
        return -1;
    }

    static List<Integer> topLevel(List<Token> tokens, int from, int to, String op) {
        List<Integer> found = new ArrayList<>();
        int depth = 0;
        for (int k = from; k < to; k++) {
            Token t = tokens.get(k);
            if (t.isOpener()) {
                depth++;
            } else if (t.isCloser()) {
                depth--;
            } else if (depth == 0 && t.is(op)) {
                found.add(k);
            }
        }
        return found;
    }

    static int matchingCloser(List<Token> tokens, int open) {
        int depth = 0;
        for (int k = open; k < tokens.size(); k++) {
            if (tokens.get(k).isOpener()) {
                depth++;
            } else if (tokens.get(k).isCloser() && --depth == 0) {
                return k;
            }
        }
        return -1;
    }

    static int matchingOpener(List<Token> tokens, int close) {
        int depth = 0;
        for (int k = close; k >= 0; k--) {
            if (tokens.get(k).isCloser()) {
                depth++;
            } else if (tokens.get(k).isOpener() && --depth == 0) {
                return k;
            }
        }
        return -1;
    }

    static int nextSignificant(List<Token> tokens, int from) {
        for (int k = from; k < tokens.size(); k++) {
            if (tokens.get(k).kind() != Kind.WS) {
                return k;
            }
        }
        return -1;
    }

    static int previousSignificant(List<Token> tokens, int before) {
        for (int k = before - 1; k >= 0; k--) {
            if (tokens.get(k).kind() != Kind.WS) {
                return k;
            }
        }
        return -1;
    }

    static Token op(String text) {
        return new Token(Kind.OP, text);
    }

    static String join(List<Token> tokens, int from, int to) {
        return tokens.subList(from, to).stream().map(Token::text).collect(Collectors.joining());
    }
}
