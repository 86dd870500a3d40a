package dev.finetune.llm.tokenizer;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Python {@code str} methods that chat templates call ({@code content.split('</think>')[-1]},
 * {@code .strip('\n')}, {@code .startswith(...)}), with Python's semantics rather than Java's:
 * {@code split} takes a literal separator and keeps empty pieces, {@code strip()} strips Python
 * whitespace, and indexes count code points.
 */
final class PythonStrings {
    private static final Set<String> METHODS = Set.of(
            "startswith",
            "endswith",
            "split",
            "rsplit",
            "strip",
            "lstrip",
            "rstrip",
            "lower",
            "upper",
            "title",
            "capitalize",
            "replace",
            "find",
            "rfind",
            "count",
            "join",
            "splitlines",
            "removeprefix",
            "removesuffix",
            "isspace",
            "isdigit",
            "isalpha",
            "isalnum",
            "islower",
            "isupper");

    private PythonStrings() {}

    /** Calls method {@code name} on {@code s}; IllegalArgumentException for an unknown method or bad arguments. */
    static Object call(String s, String name, List<Object> args) {
        return switch (name) {
            case "startswith" -> affix(s, args, true);
            case "endswith" -> affix(s, args, false);
            case "split" -> split(s, optionalString(args, 0), maxSplit(args), false);
            case "rsplit" -> split(s, optionalString(args, 0), maxSplit(args), true);
            case "strip" -> strip(s, optionalString(args, 0), true, true);
            case "lstrip" -> strip(s, optionalString(args, 0), true, false);
            case "rstrip" -> strip(s, optionalString(args, 0), false, true);
            case "lower" -> s.toLowerCase(Locale.ROOT);
            case "upper" -> s.toUpperCase(Locale.ROOT);
            case "title" -> title(s);
            case "capitalize" -> s.isEmpty()
                    ? s
                    : s.substring(0, s.offsetByCodePoints(0, 1)).toUpperCase(Locale.ROOT)
                            + s.substring(s.offsetByCodePoints(0, 1)).toLowerCase(Locale.ROOT);
            case "replace" -> replace(s, string(args, 0), string(args, 1), args.size() > 2 ? integer(args, 2) : -1);
            case "find" -> codePointIndex(s, s.indexOf(string(args, 0)));
            case "rfind" -> codePointIndex(s, s.lastIndexOf(string(args, 0)));
            case "count" -> count(s, string(args, 0));
            case "join" -> join(s, args.get(0));
            case "splitlines" -> splitLines(s);
            case "removeprefix" -> s.startsWith(string(args, 0))
                    ? s.substring(string(args, 0).length())
                    : s;
            case "removesuffix" -> s.endsWith(string(args, 0))
                            && !string(args, 0).isEmpty()
                    ? s.substring(0, s.length() - string(args, 0).length())
                    : s;
            case "isspace" -> !s.isEmpty() && s.codePoints().allMatch(PythonStrings::isSpace);
            case "isdigit" -> !s.isEmpty() && s.codePoints().allMatch(Character::isDigit);
            case "isalpha" -> !s.isEmpty() && s.codePoints().allMatch(Character::isLetter);
            case "isalnum" -> !s.isEmpty() && s.codePoints().allMatch(Character::isLetterOrDigit);
            case "islower" -> s.codePoints().anyMatch(Character::isLowerCase) && s.equals(s.toLowerCase(Locale.ROOT));
            case "isupper" -> s.codePoints().anyMatch(Character::isUpperCase) && s.equals(s.toUpperCase(Locale.ROOT));
            default -> throw new IllegalArgumentException("str has no method '" + name + "'");
        };
    }

    /** Whether {@code name} is a str method this class implements. */
    static boolean supports(String name) {
        return METHODS.contains(name);
    }

    /** Python's str.isspace for one code point. */
    static boolean isSpace(int cp) {
        return Character.isWhitespace(cp) || Character.isSpaceChar(cp) || cp == 0x85;
    }

    /** Python's str.strip / lstrip / rstrip; {@code chars} null strips whitespace. */
    static String strip(String s, String chars, boolean left, boolean right) {
        int start = 0;
        int end = s.length();
        while (left && start < end && strippable(s.codePointAt(start), chars)) {
            start += Character.charCount(s.codePointAt(start));
        }
        while (right && end > start && strippable(s.codePointBefore(end), chars)) {
            end -= Character.charCount(s.codePointBefore(end));
        }
        return s.substring(start, end);
    }

    private static boolean strippable(int cp, String chars) {
        return chars == null ? isSpace(cp) : chars.codePoints().anyMatch(c -> c == cp);
    }

    private static boolean affix(String s, List<Object> args, boolean prefix) {
        Object wanted = args.get(0);
        int from = args.size() > 1 ? s.offsetByCodePoints(0, clamp(integer(args, 1), s)) : 0;
        int to = args.size() > 2 ? s.offsetByCodePoints(0, clamp(integer(args, 2), s)) : s.length();
        String window = from <= to ? s.substring(from, to) : "";
        Collection<?> options = wanted instanceof Collection<?> c ? c : List.of(String.valueOf(wanted));
        for (Object option : options) {
            String o = String.valueOf(option);
            if (prefix ? window.startsWith(o) : window.endsWith(o)) {
                return true;
            }
        }
        return false;
    }

    private static int clamp(int index, String s) {
        int length = s.codePointCount(0, s.length());
        return Math.max(0, Math.min(length, index < 0 ? index + length : index));
    }

    /** Python's str.split / rsplit: a literal separator keeps empty pieces; none splits on whitespace runs. */
    static List<String> split(String s, String sep, int maxSplit, boolean fromRight) {
        if (sep != null && sep.isEmpty()) {
            throw new IllegalArgumentException("empty separator");
        }
        List<String> parts = new ArrayList<>();
        if (sep == null) {
            List<int[]> words = new ArrayList<>();
            int i = 0;
            while (i < s.length()) {
                while (i < s.length() && isSpace(s.codePointAt(i))) {
                    i += Character.charCount(s.codePointAt(i));
                }
                int start = i;
                while (i < s.length() && !isSpace(s.codePointAt(i))) {
                    i += Character.charCount(s.codePointAt(i));
                }
                if (i > start) {
                    words.add(new int[] {start, i});
                }
            }
            // Once maxsplit splits are made, the rest (from its first non-space) is one piece, kept as is.
            boolean capped = maxSplit >= 0 && words.size() > maxSplit;
            if (!fromRight) {
                int whole = capped ? maxSplit : words.size();
                for (int w = 0; w < whole; w++) {
                    parts.add(s.substring(words.get(w)[0], words.get(w)[1]));
                }
                if (capped) {
                    parts.add(s.substring(words.get(maxSplit)[0]));
                }
            } else {
                int first = capped ? words.size() - maxSplit : 0;
                if (capped) {
                    parts.add(s.substring(0, words.get(first - 1)[1]));
                }
                for (int w = first; w < words.size(); w++) {
                    parts.add(s.substring(words.get(w)[0], words.get(w)[1]));
                }
            }
            return parts;
        }
        List<Integer> cuts = new ArrayList<>();
        if (!fromRight) {
            for (int at = s.indexOf(sep);
                    at >= 0 && (maxSplit < 0 || cuts.size() < maxSplit);
                    at = s.indexOf(sep, at + sep.length())) {
                cuts.add(at);
            }
        } else {
            for (int at = s.lastIndexOf(sep);
                    at >= 0 && (maxSplit < 0 || cuts.size() < maxSplit);
                    at = at == 0 ? -1 : s.lastIndexOf(sep, at - sep.length())) {
                cuts.add(0, at);
            }
        }
        int start = 0;
        for (int cut : cuts) {
            parts.add(s.substring(start, cut));
            start = cut + sep.length();
        }
        parts.add(s.substring(start));
        return parts;
    }

    private static List<String> splitLines(String s) {
        List<String> lines = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean crlf = c == '\r' && i + 1 < s.length() && s.charAt(i + 1) == '\n';
            if ("\n\r\u000b\f\u001c\u001d\u001e\u0085\u2028\u2029".indexOf(c) >= 0) {
                lines.add(s.substring(start, i));
                i += crlf ? 1 : 0;
                start = i + 1;
            }
        }
        if (start < s.length()) {
            lines.add(s.substring(start));
        }
        return lines;
    }

    private static String title(String s) {
        StringBuilder out = new StringBuilder(s.length());
        boolean previousCased = false;
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            out.appendCodePoint(previousCased ? Character.toLowerCase(cp) : Character.toTitleCase(cp));
            previousCased = Character.isLetter(cp)
                    && (Character.isUpperCase(cp) || Character.isLowerCase(cp) || Character.isTitleCase(cp));
            i += Character.charCount(cp);
        }
        return out.toString();
    }

    private static String replace(String s, String old, String replacement, int count) {
        if (count < 0) {
            return s.replace(old, replacement);
        }
        StringBuilder out = new StringBuilder();
        int start = 0;
        for (int n = 0; n < count; n++) {
            int at = old.isEmpty() ? (start <= s.length() ? start : -1) : s.indexOf(old, start);
            if (at < 0) {
                break;
            }
            out.append(s, start, at).append(replacement);
            if (old.isEmpty()) {
                if (at < s.length()) {
                    out.append(s.charAt(at));
                }
                start = at + 1;
            } else {
                start = at + old.length();
            }
        }
        return start <= s.length() ? out.append(s.substring(start)).toString() : out.toString();
    }

    private static int count(String s, String sub) {
        if (sub.isEmpty()) {
            return s.codePointCount(0, s.length()) + 1;
        }
        int n = 0;
        for (int at = s.indexOf(sub); at >= 0; at = s.indexOf(sub, at + sub.length())) {
            n++;
        }
        return n;
    }

    private static String join(String separator, Object items) {
        List<String> parts = new ArrayList<>();
        if (items instanceof Iterable<?> iterable) {
            iterable.forEach(item -> parts.add(requireString(item)));
        } else {
            throw new IllegalArgumentException("can only join an iterable");
        }
        return String.join(separator, parts);
    }

    private static String requireString(Object item) {
        if (item instanceof CharSequence) {
            return item.toString();
        }
        throw new IllegalArgumentException("sequence item: expected str instance, "
                + (item == null ? "NoneType" : item.getClass().getSimpleName()) + " found");
    }

    private static int codePointIndex(String s, int charIndex) {
        return charIndex < 0 ? -1 : s.codePointCount(0, charIndex);
    }

    private static String string(List<Object> args, int i) {
        return requireString(args.get(i));
    }

    private static String optionalString(List<Object> args, int i) {
        return args.size() > i && args.get(i) != null ? string(args, i) : null;
    }

    private static int maxSplit(List<Object> args) {
        return args.size() > 1 ? integer(args, 1) : -1;
    }

    private static int integer(List<Object> args, int i) {
        if (args.get(i) instanceof Number n) {
            return n.intValue();
        }
        throw new IllegalArgumentException("expected an integer argument, got " + args.get(i));
    }
}
