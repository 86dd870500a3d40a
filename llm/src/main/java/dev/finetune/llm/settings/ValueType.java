package dev.finetune.llm.settings;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * How a setting's value is written in a YAML file, a JSON body, an event or a {@code --set name=value}
 * argument, and how it is read back. Every surface hands over either the parsed document's value (a
 * number, boolean, string or list) or the text the user typed; both are accepted, so {@code 2e-4}
 * reads the same from YAML (where it is a string in YAML 1.1), JSON and the command line.
 *
 * @param <T> the value's Java type
 */
public abstract class ValueType<T> {
    /** A finite or infinite double; the rule decides which are allowed. */
    public static final ValueType<Double> DECIMAL = new ValueType<>("a number") {
        @Override
        Double parse(Object raw) {
            if (raw instanceof Number number) {
                return number.doubleValue();
            }
            if (raw instanceof String text) {
                try {
                    return Double.parseDouble(text.strip());
                } catch (NumberFormatException e) {
                    // reported below
                }
            }
            throw mismatch(raw);
        }

        @Override
        Object toPlain(Double value) {
            return value;
        }
    };

    /** A whole number that fits an int; {@code 16.0} is accepted as 16, {@code 2.5} is refused. */
    public static final ValueType<Integer> INTEGER = new ValueType<>("an integer") {
        @Override
        Integer parse(Object raw) {
            long value = wholeNumber(raw, this);
            if (value > Integer.MAX_VALUE || value < Integer.MIN_VALUE) {
                throw mismatch(raw);
            }
            return (int) value;
        }

        @Override
        Object toPlain(Integer value) {
            return value;
        }
    };

    /** A whole number that fits a long (seeds). */
    public static final ValueType<Long> LONG = new ValueType<>("an integer") {
        @Override
        Long parse(Object raw) {
            return wholeNumber(raw, this);
        }

        @Override
        Object toPlain(Long value) {
            return value;
        }
    };

    /** {@code true} or {@code false}, also as text in any case. */
    public static final ValueType<Boolean> BOOLEAN = new ValueType<>("true or false") {
        @Override
        Boolean parse(Object raw) {
            if (raw instanceof Boolean bool) {
                return bool;
            }
            if (raw instanceof String text
                    && (text.strip().equalsIgnoreCase("true") || text.strip().equalsIgnoreCase("false"))) {
                return Boolean.parseBoolean(text.strip());
            }
            throw mismatch(raw);
        }

        @Override
        Object toPlain(Boolean value) {
            return value;
        }
    };

    /** A list of strings; a single string is a list of one, and {@code a,b} on the command line a list of two. */
    public static final ValueType<String> STRING = new ValueType<>("a string") {
        @Override
        String parse(Object raw) {
            if (!(raw instanceof String text) || text.isBlank()) {
                throw mismatch(raw);
            }
            return text.strip();
        }

        @Override
        Object toPlain(String value) {
            return value;
        }
    };

    /** A string that may be empty, which means "none" (a setting that is off unless it names something). */
    public static final ValueType<String> OPTIONAL_STRING = new ValueType<>("a string, empty for none") {
        @Override
        String parse(Object raw) {
            if (!(raw instanceof String text)) {
                throw mismatch(raw);
            }
            return text.strip();
        }

        @Override
        Object toPlain(String value) {
            return value;
        }
    };

    public static final ValueType<List<String>> STRINGS = new ValueType<>("a list of strings") {
        @Override
        List<String> parse(Object raw) {
            if (raw instanceof String text) {
                return Arrays.stream(text.split(",")).map(String::strip).toList();
            }
            if (!(raw instanceof List<?> list)) {
                throw mismatch(raw);
            }
            List<String> strings = new ArrayList<>();
            for (Object item : list) {
                if (!(item instanceof String text)) {
                    throw new IllegalArgumentException("must be a list of strings, got an element " + describe(item));
                }
                strings.add(text);
            }
            return List.copyOf(strings);
        }

        @Override
        Object toPlain(List<String> value) {
            return value;
        }
    };

    /** A list of finite numbers; {@code 1,0.5} on the command line is a list of two. */
    public static final ValueType<List<Double>> DECIMALS = new ValueType<>("a list of numbers") {
        @Override
        List<Double> parse(Object raw) {
            List<?> items = raw instanceof String text
                    ? Arrays.stream(text.split(",")).map(String::strip).toList()
                    : raw instanceof List<?> list ? list : null;
            if (items == null) {
                throw mismatch(raw);
            }
            List<Double> numbers = new ArrayList<>();
            for (Object item : items) {
                try {
                    numbers.add(DECIMAL.parse(item));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("must be a list of numbers, got an element " + describe(item));
                }
            }
            return List.copyOf(numbers);
        }

        @Override
        Object toPlain(List<Double> value) {
            return value;
        }
    };

    private final String description;

    private ValueType(String description) {
        this.description = description;
    }

    /**
     * One of an enum's values, by its name in configs ({@code constant}, {@code linear}); {@code parser}
     * may accept aliases (transformers' {@code constant_with_warmup}).
     */
    public static <E extends Enum<E>> ValueType<E> named(
            Class<E> type, Function<E, String> name, Function<String, E> parser) {
        String choices = Arrays.stream(type.getEnumConstants()).map(name).collect(Collectors.joining(", "));
        return new ValueType<>("one of " + choices) {
            @Override
            E parse(Object raw) {
                if (raw instanceof String text) {
                    try {
                        return parser.apply(text.strip().toLowerCase(Locale.ROOT));
                    } catch (IllegalArgumentException e) {
                        // reported below, with the choices
                    }
                }
                throw mismatch(raw);
            }

            @Override
            Object toPlain(E value) {
                return name.apply(value);
            }
        };
    }

    /**
     * One of {@code values}, by its name in configs; for a setting whose values are those of several
     * enums (each objective's {@code loss_type}), whose rules say which an objective takes.
     */
    public static <T> ValueType<T> oneOf(List<T> values, Function<T, String> name) {
        String choices = values.stream().map(name).collect(Collectors.joining(", "));
        return new ValueType<>("one of " + choices) {
            @Override
            T parse(Object raw) {
                if (raw instanceof String text) {
                    String wanted = text.strip().toLowerCase(Locale.ROOT);
                    for (T value : values) {
                        if (name.apply(value).equals(wanted)) {
                            return value;
                        }
                    }
                }
                throw mismatch(raw);
            }

            @Override
            Object toPlain(T value) {
                return name.apply(value);
            }
        };
    }

    /** What a value of this type looks like, for messages and help: "a number", "one of a, b". */
    public String description() {
        return description;
    }

    /**
     * Reads a value from a parsed document or from text.
     *
     * @throws IllegalArgumentException "must be an integer, got 2.5" (without the setting's name)
     */
    abstract T parse(Object raw);

    /** The value as a JSON/YAML document holds it: a number, boolean, string or list of strings. */
    abstract Object toPlain(T value);

    IllegalArgumentException mismatch(Object raw) {
        return new IllegalArgumentException("must be " + description + ", got " + describe(raw));
    }

    private static long wholeNumber(Object raw, ValueType<?> type) {
        if (raw instanceof Integer || raw instanceof Long || raw instanceof Short || raw instanceof Byte) {
            return ((Number) raw).longValue();
        }
        if (raw instanceof Number number) {
            double d = number.doubleValue();
            if (d == Math.rint(d) && Math.abs(d) < 9.0e15) {
                return (long) d;
            }
            throw type.mismatch(raw);
        }
        if (raw instanceof String text) {
            String t = text.strip();
            try {
                return Long.parseLong(t);
            } catch (NumberFormatException e) {
                try {
                    double d = Double.parseDouble(t);
                    if (d == Math.rint(d) && Math.abs(d) < 9.0e15) {
                        return (long) d;
                    }
                } catch (NumberFormatException notANumber) {
                    // reported below
                }
            }
        }
        throw type.mismatch(raw);
    }

    /** A value as the user wrote it: strings quoted, whole doubles without ".0" ("-1", not "-1.0"). */
    static String describe(Object value) {
        if (value instanceof String text) {
            return "\"" + text + "\"";
        }
        if (value instanceof Double d && d == Math.rint(d) && !Double.isInfinite(d) && Math.abs(d) < 1e15) {
            return Long.toString(d.longValue());
        }
        if (value instanceof Float f && f == Math.rint(f) && !Float.isInfinite(f)) {
            return Long.toString(f.longValue());
        }
        if (value instanceof Double d) {
            return Double.toString(d).replace("E", "e"); // 1.0e-8, as YAML and JSON write it
        }
        return String.valueOf(value);
    }
}
