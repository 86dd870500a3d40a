package dev.finetune.llm.settings;

import dev.finetune.events.Objective;
import dev.finetune.llm.train.Method;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The settings a job sets explicitly, each checked against its declaration; everything else takes
 * its default when read ({@link #get}). Immutable. Read from a YAML mapping, a JSON object or {@code
 * --set} pairs with {@link #read}, written back with {@link #toPlainMap} (HF/TRL names, plain JSON
 * values), so a job's settings survive every hop with one spelling.
 */
public final class SettingValues {
    private static final SettingValues NONE = new SettingValues(Settings.CATALOG, Map.of());

    private final SettingsCatalog catalog;
    private final Map<Setting<?>, Object> values;

    private SettingValues(SettingsCatalog catalog, Map<Setting<?>, Object> values) {
        this.catalog = catalog;
        this.values = Collections.unmodifiableMap(values);
    }

    /** No explicit setting: every read gives the default. */
    public static SettingValues none() {
        return NONE;
    }

    /** Reads the engine's settings from names and values; see {@link #read(Map, SettingsCatalog)}. */
    public static SettingValues read(Map<String, ?> raw) {
        return read(raw, Settings.CATALOG);
    }

    /**
     * Reads names and values (document values or text).
     *
     * @throws SettingException for the first unknown name (with the closest known one) or invalid value
     */
    public static SettingValues read(Map<String, ?> raw, SettingsCatalog catalog) {
        SettingValues result = new SettingValues(catalog, Map.of());
        if (raw != null) {
            for (Map.Entry<String, ?> entry : raw.entrySet()) {
                result = result.with(entry.getKey(), entry.getValue());
            }
        }
        return result;
    }

    /**
     * Reads names and values of a job of {@code objective}: each value is checked against that
     * objective's rule ({@link Setting#read(Object, Objective)}).
     *
     * @throws SettingException for the first unknown name (with the closest known one) or invalid value
     */
    public static SettingValues read(Map<String, ?> raw, SettingsCatalog catalog, Objective objective) {
        SettingValues result = new SettingValues(catalog, Map.of());
        if (raw != null) {
            for (Map.Entry<String, ?> entry : raw.entrySet()) {
                Setting<?> setting = catalog.require(entry.getKey());
                result = result.put(setting, setting.read(entry.getValue(), objective));
            }
        }
        return result;
    }

    /**
     * Checks every explicit value against the rules of a job of {@code objective}.
     *
     * @throws SettingException naming the first value that objective refuses
     */
    public void checkFor(Objective objective) {
        values.forEach((setting, value) -> checkUnchecked(setting, value, objective));
    }

    @SuppressWarnings("unchecked")
    private static <T> void checkUnchecked(Setting<T> setting, Object value, Objective objective) {
        setting.check((T) value, objective);
    }

    /**
     * Reads {@code name=value} pairs as typed on a command line ({@code --set learning_rate=1e-4}).
     *
     * @throws SettingException naming the pair that has no '=' or the setting that is unknown or invalid
     */
    public static SettingValues readAssignments(Iterable<String> assignments, SettingsCatalog catalog) {
        SettingValues result = new SettingValues(catalog, Map.of());
        for (String assignment : assignments) {
            int equals = assignment.indexOf('=');
            if (equals <= 0) {
                throw new SettingException(
                        assignment, "--set takes name=value (e.g. learning_rate=1e-4), got \"" + assignment + "\"");
            }
            result = result.with(
                    assignment.substring(0, equals).strip(),
                    assignment.substring(equals + 1).strip());
        }
        return result;
    }

    /** These values with {@code name} set from a document value or text, checked. */
    public SettingValues with(String name, Object raw) {
        Setting<?> setting = catalog.require(name);
        return put(setting, setting.read(raw));
    }

    /** These values with {@code setting} set, checked against its rule. */
    public <T> SettingValues with(Setting<T> setting, T value) {
        Objects.requireNonNull(value, setting.name());
        if (catalog.find(setting.name()).orElse(null) != setting) {
            throw new IllegalArgumentException(setting.name() + " is not in this catalog");
        }
        return put(setting, setting.check(value));
    }

    /** These values, then every value {@code other} sets explicitly on top. */
    public SettingValues overriddenBy(SettingValues other) {
        SettingValues result = this;
        for (Map.Entry<Setting<?>, Object> entry : other.values.entrySet()) {
            result = result.put(entry.getKey(), entry.getValue());
        }
        return result;
    }

    private SettingValues put(Setting<?> setting, Object value) {
        Map<Setting<?>, Object> copy = new LinkedHashMap<>();
        for (Setting<?> known : catalog.all()) {
            Object v = known == setting ? value : values.get(known);
            if (v != null) {
                copy.put(known, v);
            }
        }
        return new SettingValues(catalog, copy);
    }

    /** The value of {@code setting}: the explicit one, else its default for {@code method}. */
    @SuppressWarnings("unchecked")
    public <T> T get(Setting<T> setting, Method method) {
        Object value = values.get(setting);
        return value != null ? (T) value : setting.defaultFor(method);
    }

    /** The value of {@code setting} in a job of {@code objective}: the explicit one, else that objective's default. */
    @SuppressWarnings("unchecked")
    public <T> T get(Setting<T> setting, Method method, Objective objective) {
        Object value = values.get(setting);
        return value != null ? (T) value : setting.defaultFor(method, objective);
    }

    /** The value set explicitly, if any. */
    @SuppressWarnings("unchecked")
    public <T> Optional<T> explicit(Setting<T> setting) {
        return Optional.ofNullable((T) values.get(setting));
    }

    public boolean isEmpty() {
        return values.isEmpty();
    }

    public SettingsCatalog catalog() {
        return catalog;
    }

    /** The explicit values by name, as plain document values (numbers, booleans, strings, lists), in catalog order. */
    public Map<String, Object> toPlainMap() {
        Map<String, Object> plain = new LinkedHashMap<>();
        values.forEach((setting, value) -> plain.put(setting.name(), setting.toPlainUnchecked(value)));
        return Collections.unmodifiableMap(plain);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SettingValues other && values.equals(other.values);
    }

    @Override
    public int hashCode() {
        return values.hashCode();
    }

    @Override
    public String toString() {
        return toPlainMap().toString();
    }
}
