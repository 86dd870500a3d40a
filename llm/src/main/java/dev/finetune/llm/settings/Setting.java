package dev.finetune.llm.settings;

import dev.finetune.events.Objective;
import dev.finetune.llm.train.Method;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * One training setting, declared once (in {@link Settings}) with everything every surface needs:
 * the HuggingFace/TRL/PEFT name used in YAML files, JSON bodies, events, {@code --set} and error
 * messages; its type; its default (which may depend on the method, like the learning rate); the rule
 * a value must follow; and a line of help.
 *
 * <p>A name TRL gives two objectives with two meanings ({@code beta}, {@code loss_type}) is still one
 * setting: {@link #forObjective} declares what one objective changes (its default and its rule; the
 * type is the union of what the objectives take). A value read without knowing the job's objective
 * (a job request before it is checked, {@code --set}) is accepted if some objective accepts it; the
 * job's objective then checks it ({@link #check(Object, Objective)}, from {@code
 * TrainConfig.checkObjective}).
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
    private final Map<Objective, Variant<T>> variants;

    /**
     * What one objective changes of a setting.
     *
     * @param defaultValue the value a job of that objective gets when it does not set this one
     * @param rule what a value must satisfy with that objective
     */
    public record Variant<T>(T defaultValue, Rule<T> rule) {}

    private Setting(
            String name,
            ValueType<T> type,
            Function<Method, T> defaults,
            String defaultText,
            Rule<T> rule,
            String help) {
        this(name, type, defaults, defaultText, rule, help, Map.of());
    }

    private Setting(
            String name,
            ValueType<T> type,
            Function<Method, T> defaults,
            String defaultText,
            Rule<T> rule,
            String help,
            Map<Objective, Variant<T>> variants) {
        if (!name.matches("[a-z][a-z0-9_]*")) {
            throw new IllegalArgumentException("setting names are snake_case, got \"" + name + "\"");
        }
        this.name = name;
        this.type = Objects.requireNonNull(type, "type");
        this.defaults = Objects.requireNonNull(defaults, "defaults");
        this.defaultText = Objects.requireNonNull(defaultText, "defaultText");
        this.rule = Objects.requireNonNull(rule, "rule");
        this.help = Objects.requireNonNull(help, "help");
        this.variants = variants;
    }

    /**
     * This setting with another default and rule for jobs of {@code objective} (GRPO's {@code beta} is
     * 0.04 and may be 0, DPO's is 0.1 and may not).
     */
    public Setting<T> forObjective(Objective objective, T defaultValue, Rule<T> objectiveRule) {
        Map<Objective, Variant<T>> more = new EnumMap<>(Objective.class);
        more.putAll(variants);
        more.put(objective, new Variant<>(defaultValue, objectiveRule));
        return new Setting<>(name, type, defaults, defaultText, rule, help, Collections.unmodifiableMap(more));
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

    /** The value a job of {@code objective} gets when it does not set this one. */
    public T defaultFor(Method method, Objective objective) {
        Variant<T> variant = variants.get(objective);
        return variant == null ? defaultFor(method) : variant.defaultValue();
    }

    /** The default in words ("8", "2e-4 for lora and qlora, 1e-5 for full"), each objective's that differs after. */
    public String defaultText() {
        StringBuilder text = new StringBuilder(defaultText);
        variants.forEach((objective, variant) -> text.append("; ")
                .append(describeDefault(type, variant.defaultValue()))
                .append(" for ")
                .append(objective.code()));
        return text.toString();
    }

    /** The requirement in words, read after "must be", each objective's that differs after. */
    public String ruleText() {
        StringBuilder text = new StringBuilder(rule.text());
        variants.forEach((objective, variant) ->
                text.append("; ").append(variant.rule().text()).append(" for ").append(objective.code()));
        return text.toString();
    }

    /** Whether some objective reads this setting otherwise than the others. */
    public boolean hasObjectiveVariants() {
        return !variants.isEmpty();
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

    /**
     * Reads and checks a value of a job of {@code objective}: a value of the wrong kind is reported with
     * that objective's rule ({@code loss_type must be one of grpo, bnpo, dr_grpo, dapo, got "x"}).
     *
     * @throws SettingException naming this setting and the value
     */
    public T read(Object raw, Objective objective) {
        if (variants.isEmpty()) {
            return read(raw);
        }
        Variant<T> variant = variants.get(objective);
        Rule<T> objectiveRule = variant == null ? rule : variant.rule();
        T value;
        try {
            value = raw == null ? null : type.parse(raw);
        } catch (IllegalArgumentException e) {
            value = null;
        }
        if (value == null) {
            throw new SettingException(
                    name, name + " must be " + objectiveRule.text() + ", got " + ValueType.describe(raw));
        }
        return check(value, objective);
    }

    /**
     * Checks a typed value against the rule of some objective (the base rule or a {@link #forObjective}
     * one): what can be said before the job's objective is known. The message gives the base rule.
     */
    public T check(T value) {
        if (value instanceof Double d && (d.isNaN() || d.isInfinite())) {
            throw new SettingException(name, name + " must be a finite number, got " + d);
        }
        boolean accepted = rule.test().test(value)
                || variants.values().stream().anyMatch(v -> v.rule().test().test(value));
        if (!accepted) {
            throw new SettingException(name, name + " must be " + rule.text() + ", got " + ValueType.describe(value));
        }
        return value;
    }

    /**
     * Checks a typed value against the rule of jobs of {@code objective}; a value that another objective
     * would take is refused naming this one ({@code beta must be > 0 and <= 1000 with objective dpo, got 0}).
     */
    public T check(T value, Objective objective) {
        if (variants.isEmpty()) {
            return check(value);
        }
        if (value instanceof Double d && (d.isNaN() || d.isInfinite())) {
            throw new SettingException(name, name + " must be a finite number, got " + d);
        }
        Variant<T> variant = variants.get(objective);
        Rule<T> objectiveRule = variant == null ? rule : variant.rule();
        if (!objectiveRule.test().test(value)) {
            boolean otherObjectivesTakeIt = rule.test().test(value)
                    || variants.values().stream().anyMatch(v -> v.rule().test().test(value));
            throw new SettingException(
                    name,
                    name + " must be " + objectiveRule.text()
                            + (otherObjectivesTakeIt ? " with objective " + objective.code() : "")
                            + ", got " + ValueType.describe(type.toPlain(value)));
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
