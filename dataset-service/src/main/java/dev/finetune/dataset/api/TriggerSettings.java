package dev.finetune.dataset.api;

import dev.finetune.errors.InvalidInputException;
import dev.finetune.events.Hyperparameters;
import dev.finetune.llm.settings.SettingException;
import dev.finetune.llm.settings.SettingValues;

/** A trigger's settings, checked against the one declaration of every training setting. */
final class TriggerSettings {
    private TriggerSettings() {}

    /**
     * The settings as checked values (numbers as numbers, names in catalog order).
     *
     * @throws InvalidInputException naming {@code hyperparameters.<setting>} and the value
     */
    static Hyperparameters checked(Hyperparameters requested) {
        try {
            return new Hyperparameters(SettingValues.read(requested.values()).toPlainMap());
        } catch (SettingException e) {
            throw new InvalidInputException("hyperparameters." + e.setting(), "hyperparameters." + e.getMessage(), e);
        }
    }
}
