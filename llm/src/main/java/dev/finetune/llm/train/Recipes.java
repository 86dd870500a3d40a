package dev.finetune.llm.train;

/** Creates the recipe of a job: the one its objective names. */
public final class Recipes {
    private Recipes() {}

    /**
     * The recipe that trains {@code config} ({@link SftRecipe}; {@link PreferenceRecipe} for dpo, orpo, kto and reward; {@link GrpoRecipe} for grpo; {@link PpoRecipe} for ppo), reporting to
     * {@code listener}; call {@link Recipe#setup} next. The calling thread must be prepared for
     * training ({@link dev.finetune.llm.model.Engines#trainingThread}).
     */
    public static Recipe create(TrainConfig config, TrainingListener listener) {
        return switch (config.objective()) {
            case SFT -> new SftRecipe(config, listener);
            case DPO, ORPO, KTO, REWARD -> new PreferenceRecipe(config, listener);
            case GRPO -> new GrpoRecipe(config, listener);
            case PPO -> new PpoRecipe(config, listener);
        };
    }
}
