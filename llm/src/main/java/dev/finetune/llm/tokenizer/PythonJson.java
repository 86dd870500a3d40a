package dev.finetune.llm.tokenizer;

import java.lang.reflect.Array;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * Python's {@code json.dumps}, byte for byte, for the values a chat template sees (maps, lists,
 * strings, numbers, booleans, null). transformers' {@code tojson} filter is {@code json.dumps}
 * with {@code ensure_ascii=False}, so a tool schema in a prompt must be spelled exactly this way:
 * {@code ", "} and {@code ": "} separators, Python float repr, only control characters escaped.
 */
final class PythonJson {
    /** json.dumps options; {@code indent} null means single-line output. */
    record Options(boolean ensureAscii, String indent, String itemSeparator, String keySeparator, boolean sortKeys) {
        static Options of(boolean ensureAscii, String indent, List<String> separators, boolean sortKeys) {
            String item = indent == null ? ", " : ",";
            String key = ": ";
            if (separators != null) {
                if (separators.size() != 2) {
                    throw new IllegalArgumentException(
                            "separators must be (item_separator, key_separator), got " + separators);
                }
                item = separators.get(0);
                key = separators.get(1);
            }
            return new Options(ensureAscii, indent, item, key, sortKeys);
        }
    }

    private PythonJson() {}

    static String dumps(Object value, Options options) {
        StringBuilder out = new StringBuilder();
        write(value, options, 0, out);
        return out.toString();
    }

    private static void write(Object value, Options o, int level, StringBuilder out) {
        if (value == null) {
            out.append("null");
        } else if (value instanceof CharSequence || value instanceof Character) {
            writeString(value.toString(), o.ensureAscii(), out);
        } else if (value instanceof Boolean b) {
            out.append(b ? "true" : "false");
        } else if (value instanceof Double || value instanceof Float) {
            out.append(floatRepr(((Number) value).doubleValue()));
        } else if (value instanceof BigDecimal d) {
            out.append(floatRepr(d.doubleValue()));
        } else if (value instanceof Number n) {
            out.append(n instanceof BigInteger ? n.toString() : Long.toString(n.longValue()));
        } else if (value instanceof Map<?, ?> map) {
            writeObject(map, o, level, out);
        } else if (value instanceof Map.Entry<?, ?> entry) {
            writeArray(Arrays.asList(entry.getKey(), entry.getValue()), o, level, out);
        } else if (value instanceof Iterable<?> items) {
            List<Object> list = new ArrayList<>();
            items.forEach(list::add);
            writeArray(list, o, level, out);
        } else if (value.getClass().isArray()) {
            List<Object> list = new ArrayList<>();
            for (int i = 0; i < Array.getLength(value); i++) {
                list.add(Array.get(value, i));
            }
            writeArray(list, o, level, out);
        } else if (value.getClass().getName().equals("com.hubspot.jinjava.objects.SafeString")) {
            writeString(value.toString(), o.ensureAscii(), out);
        } else {
            throw new IllegalArgumentException(
                    "Object of type " + value.getClass().getSimpleName() + " is not JSON serializable");
        }
    }

    private static void writeArray(List<?> items, Options o, int level, StringBuilder out) {
        if (items.isEmpty()) {
            out.append("[]");
            return;
        }
        out.append('[');
        String separator = newline(o, level + 1, out);
        for (int i = 0; i < items.size(); i++) {
            if (i > 0) {
                out.append(o.itemSeparator()).append(separator);
            }
            write(items.get(i), o, level + 1, out);
        }
        out.append(closing(o, level)).append(']');
    }

    private static void writeObject(Map<?, ?> map, Options o, int level, StringBuilder out) {
        if (map.isEmpty()) {
            out.append("{}");
            return;
        }
        List<Map.Entry<String, Object>> entries = new ArrayList<>();
        for (Map.Entry<?, ?> e : map.entrySet()) {
            entries.add(new AbstractMap.SimpleImmutableEntry<>(key(e.getKey()), e.getValue()));
        }
        if (o.sortKeys()) {
            entries.sort(Comparator.comparing(Map.Entry::getKey));
        }
        out.append('{');
        String separator = newline(o, level + 1, out);
        for (int i = 0; i < entries.size(); i++) {
            if (i > 0) {
                out.append(o.itemSeparator()).append(separator);
            }
            writeString(entries.get(i).getKey(), o.ensureAscii(), out);
            out.append(o.keySeparator());
            write(entries.get(i).getValue(), o, level + 1, out);
        }
        out.append(closing(o, level)).append('}');
    }

    /** Appends the line break and indentation that opens a container, returns it for reuse between items. */
    private static String newline(Options o, int level, StringBuilder out) {
        if (o.indent() == null) {
            return "";
        }
        String s = "\n" + o.indent().repeat(level);
        out.append(s);
        return s;
    }

    private static String closing(Options o, int level) {
        return o.indent() == null ? "" : "\n" + o.indent().repeat(level);
    }

    /** Python converts non-string keys: True -> "true", None -> "null", numbers by repr. */
    private static String key(Object key) {
        if (key == null) {
            return "null";
        } else if (key instanceof Boolean b) {
            return b ? "true" : "false";
        } else if (key instanceof Double || key instanceof Float) {
            return floatRepr(((Number) key).doubleValue());
        }
        return key.toString();
    }

    private static void writeString(String s, boolean ensureAscii, StringBuilder out) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    if (c < 0x20 || (ensureAscii && c > 0x7e)) {
                        out.append(String.format("\\u%04x", (int) c)); // UTF-16 units, as Python writes them
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }

    /** Python's {@code repr(float)}: shortest digits, exponent form below 1e-4 and from 1e16. */
    static String floatRepr(double d) {
        if (Double.isNaN(d)) {
            return "NaN";
        } else if (Double.isInfinite(d)) {
            return d > 0 ? "Infinity" : "-Infinity";
        } else if (d == 0) {
            return (1 / d < 0) ? "-0.0" : "0.0";
        }
        BigDecimal exact = new BigDecimal(Double.toString(Math.abs(d))).stripTrailingZeros();
        String digits = exact.unscaledValue().toString();
        int pointPosition = digits.length() - exact.scale(); // value = 0.digits * 10^pointPosition
        StringBuilder out = new StringBuilder(d < 0 ? "-" : "");
        if (pointPosition > 16 || pointPosition <= -4) {
            out.append(digits.charAt(0));
            if (digits.length() > 1) {
                out.append('.').append(digits, 1, digits.length());
            }
            int exponent = pointPosition - 1;
            out.append('e').append(exponent < 0 ? '-' : '+').append(String.format("%02d", Math.abs(exponent)));
        } else if (pointPosition <= 0) {
            out.append("0.").append("0".repeat(-pointPosition)).append(digits);
        } else if (pointPosition >= digits.length()) {
            out.append(digits)
                    .append("0".repeat(pointPosition - digits.length()))
                    .append(".0");
        } else {
            out.append(digits, 0, pointPosition).append('.').append(digits, pointPosition, digits.length());
        }
        return out.toString();
    }
}
