package dev.finetune.llm.train;

import ai.djl.ndarray.NDManager;
import dev.finetune.llm.objective.DpoLoss;
import dev.finetune.llm.objective.DpoLossType;
import dev.finetune.llm.settings.SettingValues;
import dev.finetune.llm.settings.Settings;

/**
 * Settings of the DPO objective, a typed view of {@link Settings#BETA}, {@link
 * Settings#MAX_PROMPT_LENGTH}, {@link Settings#LOSS_TYPE} and {@link Settings#LABEL_SMOOTHING}
 * (declared, defaulted and explained there).
 *
 * @param beta strength of the pull towards the reference model (default 0.1)
 * @param maxPromptLength prompts keep their last this many tokens (default 512)
 * @param lossType the loss on the reward margin (default sigmoid)
 * @param labelSmoothing assumed probability of a flipped preference, sigmoid and robust (default 0)
 */
public record DpoConfig(double beta, int maxPromptLength, DpoLossType lossType, double labelSmoothing) {
    public static DpoConfig from(SettingValues settings, Method method) {
        return new DpoConfig(
                settings.get(Settings.BETA, method),
                settings.get(Settings.MAX_PROMPT_LENGTH, method),
                dpoLossType(settings, method),
                settings.get(Settings.LABEL_SMOOTHING, method));
    }

    /** loss_type as DPO reads it; a job whose objective is dpo was checked to have one of DPO's. */
    private static DpoLossType dpoLossType(SettingValues settings, Method method) {
        if (settings.get(Settings.LOSS_TYPE, method) instanceof DpoLossType type) {
            return type;
        }
        throw new IllegalStateException(
                "loss_type " + settings.get(Settings.LOSS_TYPE, method).configName()
                        + " is not a DPO loss; DPO takes sigmoid, robust, hinge or ipo");
    }

    public static DpoConfig defaults() {
        return from(SettingValues.none(), Method.LORA);
    }

    /** The loss these settings describe, its constants held in {@code manager}. */
    public DpoLoss loss(NDManager manager) {
        return new DpoLoss(lossType, beta, labelSmoothing, manager);
    }
}
