package dev.finetune.llm.train;

import ai.djl.ndarray.NDManager;
import dev.finetune.llm.objective.KtoLoss;
import dev.finetune.llm.settings.SettingValues;
import dev.finetune.llm.settings.Settings;

/**
 * Settings of the KTO loss, a typed view of {@link Settings#BETA}, {@link Settings#DESIRABLE_WEIGHT} and
 * {@link Settings#UNDESIRABLE_WEIGHT} (declared, defaulted and explained there).
 *
 * @param beta strength of the pull towards the reference model (default 0.1)
 * @param desirableWeight weight of a desirable example's loss (default 1)
 * @param undesirableWeight weight of an undesirable example's loss (default 1)
 */
public record KtoConfig(double beta, double desirableWeight, double undesirableWeight) {
    public static KtoConfig from(SettingValues settings, Method method) {
        return new KtoConfig(
                settings.get(Settings.BETA, method),
                settings.get(Settings.DESIRABLE_WEIGHT, method),
                settings.get(Settings.UNDESIRABLE_WEIGHT, method));
    }

    /** The loss these settings describe, its constants held in {@code manager}. */
    public KtoLoss loss(NDManager manager) {
        return new KtoLoss(beta, desirableWeight, undesirableWeight, manager);
    }
}
