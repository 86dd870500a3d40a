package dev.finetune.llm.train;

import dev.finetune.llm.settings.SettingValues;
import dev.finetune.llm.settings.Settings;

/**
 * Settings of the DPO objective, a typed view of {@link Settings#BETA}, {@link
 * Settings#MAX_PROMPT_LENGTH} and {@link Settings#LOSS_TYPE} (declared, defaulted and explained there).
 *
 * @param beta strength of the pull towards the reference model (default 0.1)
 * @param maxPromptLength prompts keep their last this many tokens (default 512)
 * @param lossType the loss on the reward margin (default sigmoid)
 */
public record DpoConfig(double beta, int maxPromptLength, DpoLossType lossType) {
    public static DpoConfig from(SettingValues settings, Method method) {
        return new DpoConfig(
                settings.get(Settings.BETA, method),
                settings.get(Settings.MAX_PROMPT_LENGTH, method),
                settings.get(Settings.LOSS_TYPE, method));
    }

    public static DpoConfig defaults() {
        return from(SettingValues.none(), Method.LORA);
    }
}
