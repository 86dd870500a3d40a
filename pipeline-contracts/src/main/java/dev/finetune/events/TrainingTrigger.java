package dev.finetune.events;

/**
 * A dataset's standing training request: when one of its versions is prepared, train this. Set on
 * the dataset-service (which also counts tokens with the base model's tokenizer) and carried in
 * every {@link DatasetPrepared} event of the dataset; the training-service applies it through the
 * same validation as a job from its API, as job {@code JobIds.forDataset(name, version)}.
 *
 * @param baseModel base model under {@code models/base/<name>/}
 * @param method full, lora or qlora
 * @param objective what the job optimises; each needs its kind of dataset ({@link Objective#datasetKind})
 * @param hyperparameters the settings the job sets by their HF/TRL names, checked when the trigger is set
 * @param suffix name part for the registered model, or null
 */
public record TrainingTrigger(
        String baseModel, FineTuneMethod method, Objective objective, Hyperparameters hyperparameters, String suffix) {
    public TrainingTrigger {
        hyperparameters = hyperparameters == null ? Hyperparameters.none() : hyperparameters;
    }
}
