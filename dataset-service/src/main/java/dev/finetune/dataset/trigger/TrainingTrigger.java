package dev.finetune.dataset.trigger;

import dev.finetune.events.FineTuneMethod;
import dev.finetune.events.Hyperparameters;
import dev.finetune.events.Objective;

/**
 * A dataset's declared policy: when one of its versions is prepared, request a training job with
 * this recipe. Stored at {@code datasets/raw/<dataset>/_trigger.json}, set through the API.
 *
 * @param baseModel base model under {@code models/base/<name>/}; its tokenizer also counts the tokens
 * @param method full, lora or qlora
 * @param objective sft (needs conversations) or dpo (needs preference pairs)
 * @param hyperparameters the recipe's values; null fields take the recipe's defaults
 * @param suffix name part for the registered model, or null
 */
public record TrainingTrigger(
        String baseModel, FineTuneMethod method, Objective objective, Hyperparameters hyperparameters, String suffix) {}
