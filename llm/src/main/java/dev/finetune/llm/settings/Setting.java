package dev.finetune.llm.settings;

import dev.finetune.llm.train.Method;
import java.util.Objects;
import java.util.function.Function;

/**
 * One training setting, declared once (in {@link Settings}) with everything every surface needs:
 * the HuggingFace/TRL/PEFT name used in YAML files, JSON bodies, events, {@code --set} and error
 * messages; its type; its default (which may depend on the method, like the learning rate); the rule
 * a value must follow; and a line of help.
 *
 * @param <T> the value's Java type
 */
public final class Setting<T> {
    private final String name;
    private final ValueType<T> type;
    private final Function<Method, T> defaults;
    private final String defaultText;
    private final Rule<T> rule;
    private final String help;

    private Setting(
            String name,
            ValueType<T> type,
            Function<Method, T> defaults,
            String defaultText,
            Rule<T> rule,
            String help) {
        if (!name.matches("[a-z][a-z0-9_]*")) {
            throw new IllegalArgumentException("setting names are snake_case, got \"" + name + "\"");
        }
        this.name = name;
        this.type = Objects.requireNonNull(type, "type");
        this.defaults = Objects.requireNonNull(defaults, "defaults");
        this.defaultText = Objects.requireNonNull(defaultText, "defaultText");
        this.rule = Objects.requireNonNull(rule, "rule");
        this.help = Objects.requireNonNull(help, "help");
    }

    /** A setting whose default is the same for every method. */
    public static <T> Setting<T> of(String name, ValueType<T> type, T defaultValue, Rule<T> rule, String help) {
        return new Setting<>(name, type, method -> defaultValue, describeDefault(type, defaultValue), rule, help);
    }

    /** A setting whose default depends on the method; {@code defaultText} says how, for help and docs. */
    public static <T> Setting<T> perMethod(
            String name,
            ValueType<T> type,
            Function<Method, T> defaults,
            String defaultText,
            Rule<T> rule,
            String help) {
        return new Setting<>(name, type, defaults, defaultText, rule, help);
    }

    public String name() {
        return name;
    }

    public ValueType<T> type() {
        return type;
    }

    /** The value a job gets when it does not set this one. */
    public T defaultFor(Method method) {
        return defaults.apply(method);
    }

    /** The default in words ("8", "2e-4 for lora and qlora, 1e-5 for full"). */
    public String defaultText() {
        return defaultText;
    }

    /** The requirement in words, read after "must be". */
    public String ruleText() {
        return rule.text();
    }

    public String help() {
        return help;
    }

    /**
     * Reads and checks a value from a parsed document or from text.
     *
     * @throws SettingException naming this setting and the value: {@code learning_rate must be > 0, got -1}
     */
    public T read(Object raw) {
        if (raw == null) {
            throw new SettingException(name, name + " must be " + type.description() + ", got null");
        }
        T value;
        try {
            value = type.parse(raw);
        } catch (IllegalArgumentException e) {
            throw new SettingException(name, name + " " + e.getMessage());
        }
        check(value);
        return value;
    }

    /** Checks a typed value against the rule. */
    public T check(T value) {
        if (value instanceof Double d && (d.isNaN() || d.isInfinite())) {
            throw new SettingException(name, name + " must be a finite number, got " + d);
        }
        if (!rule.test().test(value)) {
            throw new SettingException(name, name + " must be " + rule.text() + ", got " + ValueType.describe(value));
        }
        return value;
    }

    /** The value as documents carry it (number, boolean, string, list of strings). */
    public Object toPlain(T value) {
        return type.toPlain(value);
    }

    @SuppressWarnings("unchecked")
    Object toPlainUnchecked(Object value) {
        return type.toPlain((T) value);
    }

    private static <T> String describeDefault(ValueType<T> type, T value) {
        Object plain = type.toPlain(value);
        return plain instanceof String text ? text : ValueType.describe(plain);
    }

    @Override
    public String toString() {
        return name;
    }
}
