package dev.finetune.cli.datasets;

import dev.finetune.llm.settings.SettingException;
import dev.finetune.llm.settings.SettingValues;
import java.util.Map;

/**
 * {@code --set name=value} options as the {@code hyperparameters} object the services take, checked
 * here against the one declaration of every training setting (the HF/TRL names): a typo or another
 * spelling is refused before anything is sent, naming the closest known setting.
 */
public final class SetOptions {
    private SetOptions() {}

    /**
     * The settings as JSON values (numbers as numbers, lists as lists), in the catalog's order.
     *
     * @throws IllegalArgumentException "--set learningRate: learningRate is not a known setting; did you mean learning_rate?"
     */
    public static Map<String, Object> parse(Map<String, String> values) {
        try {
            return SettingValues.read(values).toPlainMap();
        } catch (SettingException e) {
            throw new IllegalArgumentException("--set " + e.setting() + ": " + e.getMessage(), e);
        }
    }
}
