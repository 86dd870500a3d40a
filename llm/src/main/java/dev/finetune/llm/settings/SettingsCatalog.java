package dev.finetune.llm.settings;

import dev.finetune.errors.UnknownProperty;
import java.util.ArrayList;
import java.util.Collection;
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
     * The known name closest to {@code name}, if it is close enough to be a typo or another spelling
     * ({@code learningRate} -> {@code learning_rate}): the rule the services use for unknown JSON
     * fields ({@link UnknownProperty#closest}).
     */
    public static Optional<String> closest(String name, Collection<String> known) {
        return UnknownProperty.closest(name, known);
    }
}
