package dev.finetune.llm.train;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.DoubleConsumer;
import java.util.function.IntConsumer;

/**
 * One mapping of a YAML job file with typed, named access: every value read is checked, and a key
 * that is never read is reported as unknown (a typo must not silently fall back to a default).
 * Numbers may be written as strings ({@code 2e-4} is a string in YAML 1.1, which snakeyaml follows).
 */
final class YamlSection {
    private final String file;
    private final String prefix;
    private final Map<String, Object> values;
    private final Set<String> read = new TreeSet<>();

    YamlSection(String file, String prefix, Map<?, ?> values) throws TrainConfigException {
        this.file = file;
        this.prefix = prefix;
        this.values = new LinkedHashMap<>();
        for (Map.Entry<?, ?> entry : values.entrySet()) {
            if (!(entry.getKey() instanceof String key)) {
                throw error(String.valueOf(entry.getKey()), "keys must be strings");
            }
            this.values.put(key, entry.getValue());
        }
    }

    boolean has(String key) {
        read.add(key);
        return values.containsKey(key) && values.get(key) != null;
    }

    String string(String key) throws TrainConfigException {
        Object value = require(key);
        if (value instanceof Map || value instanceof List) {
            throw error(key, "must be a string, got " + describe(value));
        }
        return value.toString();
    }

    double number(String key) throws TrainConfigException {
        Object value = require(key);
        if (value instanceof Number number) {
            return number.doubleValue();
        }
        if (value instanceof String text) {
            try {
                return Double.parseDouble(text.strip());
            } catch (NumberFormatException e) {
                // reported below
            }
        }
        throw error(key, "must be a number, got " + describe(value));
    }

    int integer(String key) throws TrainConfigException {
        double value = number(key);
        if (value != Math.rint(value) || Math.abs(value) > Integer.MAX_VALUE) {
            throw error(key, "must be an integer, got " + describe(require(key)));
        }
        return (int) value;
    }

    long longInteger(String key) throws TrainConfigException {
        Object value = require(key);
        if (value instanceof Integer || value instanceof Long) {
            return ((Number) value).longValue();
        }
        if (value instanceof String text) {
            try {
                return Long.parseLong(text.strip());
            } catch (NumberFormatException e) {
                // reported below
            }
        }
        throw error(key, "must be an integer, got " + describe(value));
    }

    boolean bool(String key) throws TrainConfigException {
        Object value = require(key);
        if (value instanceof Boolean bool) {
            return bool;
        }
        if (value instanceof String text && (text.equalsIgnoreCase("true") || text.equalsIgnoreCase("false"))) {
            return Boolean.parseBoolean(text);
        }
        throw error(key, "must be true or false, got " + describe(value));
    }

    /** Passes the number under {@code key} to {@code setter} if the key is present. */
    void ifNumber(String key, DoubleConsumer setter) throws TrainConfigException {
        if (has(key)) {
            setter.accept(number(key));
        }
    }

    /** Passes the integer under {@code key} to {@code setter} if the key is present. */
    void ifInteger(String key, IntConsumer setter) throws TrainConfigException {
        if (has(key)) {
            setter.accept(integer(key));
        }
    }

    /** A list of strings; a single string is a list of one. */
    List<String> strings(String key) throws TrainConfigException {
        Object value = require(key);
        if (value instanceof String text) {
            return List.of(text);
        }
        if (!(value instanceof List<?> list)) {
            throw error(key, "must be a list of strings, got " + describe(value));
        }
        List<String> strings = new ArrayList<>();
        for (Object item : list) {
            if (!(item instanceof String text)) {
                throw error(key, "must be a list of strings, got an element " + describe(item));
            }
            strings.add(text);
        }
        return strings;
    }

    /** A nested mapping, empty if the key is absent. */
    YamlSection section(String key) throws TrainConfigException {
        read.add(key);
        Object value = values.get(key);
        if (value == null) {
            return new YamlSection(file, qualified(key) + ".", Map.of());
        }
        if (!(value instanceof Map<?, ?> map)) {
            throw error(key, "must be a mapping of settings, got " + describe(value));
        }
        return new YamlSection(file, qualified(key) + ".", map);
    }

    /** Fails on keys that were never read, naming them and the keys this section knows. */
    void rejectUnknownKeys(Set<String> known) throws TrainConfigException {
        for (String key : values.keySet()) {
            if (!read.contains(key)) {
                throw error(key, "is not a known setting; known: " + String.join(", ", new TreeSet<>(known)));
            }
        }
    }

    TrainConfigException error(String key, String message) {
        return new TrainConfigException(file + ": " + qualified(key) + " " + message);
    }

    /**
     * A validation message of a record built from this section ("learning_rate must be > 0, got
     * -1"), qualified with the file and the section ("training.learning_rate ...") unless it already is.
     */
    TrainConfigException invalid(String message, Throwable cause) {
        String qualified = message.startsWith(prefix) ? message : prefix + message;
        return new TrainConfigException(file + ": " + qualified, cause);
    }

    String qualified(String key) {
        return prefix + key;
    }

    private Object require(String key) throws TrainConfigException {
        read.add(key);
        Object value = values.get(key);
        if (value == null) {
            throw error(key, "is required");
        }
        return value;
    }

    private static String describe(Object value) {
        if (value instanceof String text) {
            return "\"" + text + "\"";
        }
        if (value instanceof Map) {
            return "a mapping";
        }
        if (value instanceof List) {
            return "a list";
        }
        return String.valueOf(value);
    }
}
