package dev.finetune.llm.train;

import dev.finetune.llm.settings.SettingValues;
import dev.finetune.llm.settings.Settings;

/**
 * Settings of the supervised fine-tuning objective, a typed view of {@link Settings#ASSISTANT_ONLY_LOSS}
 * and {@link Settings#PACKING} (declared, defaulted and explained there).
 *
 * @param assistantOnlyLoss loss on the assistant's tokens only, the prompt masked (default true)
 * @param packing pack several examples into each row of {@code max_seq_length} tokens (default false)
 */
public record SftConfig(boolean assistantOnlyLoss, boolean packing) {
    public static SftConfig from(SettingValues settings, Method method) {
        return new SftConfig(
                settings.get(Settings.ASSISTANT_ONLY_LOSS, method), settings.get(Settings.PACKING, method));
    }

    public static SftConfig defaults() {
        return from(SettingValues.none(), Method.LORA);
    }
}
