package dev.finetune.llm.settings;

import dev.finetune.errors.InvalidInputException;
import java.util.Optional;

/**
 * A setting that is unknown, of the wrong type or outside its rule. The message names the setting and
 * the value ({@code "learning_rate must be > 0, got -1"}, {@code "lerning_rate is not a known
 * setting; did you mean learning_rate?"}); each surface adds where it came from (a file, a JSON field
 * path). It is bad input: a service answers it with 400, and it is never retried.
 */
public final class SettingException extends InvalidInputException {
    private final String suggestion;

    public SettingException(String setting, String message) {
        this(setting, message, null);
    }

    SettingException(String setting, String message, String suggestion) {
        super(setting, message);
        this.suggestion = suggestion;
    }

    /** The setting's name as the caller wrote it. */
    public String setting() {
        return field();
    }

    /** For an unknown name: the closest known one, if any is close. */
    public Optional<String> suggestion() {
        return Optional.ofNullable(suggestion);
    }
}
