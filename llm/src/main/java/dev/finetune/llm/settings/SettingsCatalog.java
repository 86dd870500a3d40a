package dev.finetune.llm.settings;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A set of declared settings, looked up by name. {@link Settings#CATALOG} holds the engine's; a
 * catalog can be extended ({@link #plus}), which is how a test proves that a new setting reaches every
 * surface from its one declaration.
 */
public final class SettingsCatalog {
    private final Map<String, Setting<?>> byName;

    private SettingsCatalog(Map<String, Setting<?>> byName) {
        this.byName = Collections.unmodifiableMap(byName);
    }

    public static SettingsCatalog of(List<Setting<?>> settings) {
        Map<String, Setting<?>> byName = new LinkedHashMap<>();
        for (Setting<?> setting : settings) {
            if (byName.put(setting.name(), setting) != null) {
                throw new IllegalStateException("setting " + setting.name() + " is declared twice");
            }
        }
        return new SettingsCatalog(byName);
    }

    /** This catalog and {@code more}. */
    public SettingsCatalog plus(Setting<?>... more) {
        List<Setting<?>> all = new ArrayList<>(byName.values());
        all.addAll(List.of(more));
        return of(all);
    }

    /** Every setting, in declaration order. */
    public List<Setting<?>> all() {
        return List.copyOf(byName.values());
    }

    public Optional<Setting<?>> find(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    /**
     * The setting called {@code name}.
     *
     * @throws SettingException "lerning_rate is not a known setting; did you mean learning_rate?"
     */
    public Setting<?> require(String name) {
        Setting<?> setting = byName.get(name);
        if (setting == null) {
            Optional<String> closest = closest(name, byName.keySet());
            throw new SettingException(
                    name,
                    name + " is not a known setting"
                            + closest.map(c -> "; did you mean " + c + "?")
                                    .orElse(" (see the settings table in the README)"),
                    closest.orElse(null));
        }
        return setting;
    }

    /**
     * The known name closest to {@code name} by edit distance, if it is close enough to be a typo or
     * another spelling ({@code learningRate} -> {@code learning_rate}): at most a third of the name's
     * length apart once case and separators are ignored.
     */
    public static Optional<String> closest(String name, Iterable<String> known) {
        String wanted = squash(name);
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String candidate : known) {
            int distance = editDistance(wanted, squash(candidate));
            if (distance < bestDistance) {
                best = candidate;
                bestDistance = distance;
            }
        }
        return best != null && bestDistance <= Math.max(1, wanted.length() / 3) ? Optional.of(best) : Optional.empty();
    }

    /** Lower case without '_', '-' and '.', so camelCase and kebab-case spellings meet the snake_case one. */
    private static String squash(String name) {
        return name.toLowerCase(java.util.Locale.ROOT).replaceAll("[_.\\-]", "");
    }

    /** Levenshtein distance with one row of memory. */
    static int editDistance(String a, String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitution, Math.min(previous[j] + 1, current[j - 1] + 1));
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }
}
