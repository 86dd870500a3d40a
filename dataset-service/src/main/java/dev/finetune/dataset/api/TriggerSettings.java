package dev.finetune.dataset.api;

import dev.finetune.errors.InvalidInputException;
import dev.finetune.events.Hyperparameters;
import dev.finetune.events.TrainingTrigger;
import dev.finetune.llm.checkpoint.CheckpointException;
import dev.finetune.llm.checkpoint.ModelConfig;
import dev.finetune.llm.checkpoint.ModelConfigJson;
import dev.finetune.llm.settings.ModelBounds;
import dev.finetune.llm.settings.SettingException;
import dev.finetune.llm.settings.SettingValues;
import dev.finetune.llm.train.Method;
import dev.finetune.llm.train.TrainConfig;
import dev.finetune.storage.ObjectKeys;
import dev.finetune.storage.ObjectStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A trigger's settings, checked when the trigger is set with the rules the training-service checks
 * a job with (its {@code JobValidator}): each setting on its own against its one declaration, the
 * settings against the method (full needs an fp32 base_dtype, qlora an nf4 one), and, when the base
 * model is in the store, against the model (max_seq_length at most its max_position_embeddings,
 * lora_r at most min(in, out) of the adapted layers). What depends on a version (its kind, its
 * tokens against the job budget) is checked when the version's job is requested.
 */
final class TriggerSettings {
    private TriggerSettings() {}

    /**
     * The settings as checked values (numbers as numbers, names in catalog order).
     *
     * @throws InvalidInputException naming {@code hyperparameters.<setting>}, the value and the limit
     */
    static Hyperparameters checked(TrainingTrigger trigger, ObjectStore store) {
        try {
            SettingValues values = SettingValues.read(trigger.hyperparameters().values());
            Method method = Method.parse(trigger.method().code());
            TrainConfig.checkCombination(method, values);
            TrainConfig.checkObjective(trigger.objective(), method, values);
            Optional<ModelConfig> model = baseModel(trigger.baseModel(), store);
            if (model.isPresent()) {
                TrainConfig job = TrainConfig.of(
                                Path.of("model"), Path.of("train.jsonl"), Path.of("out"), method, trigger.objective())
                        .withSettings(values);
                ModelBounds.check(model.get(), job);
            }
            return new Hyperparameters(values.toPlainMap());
        } catch (SettingException e) {
            throw new InvalidInputException("hyperparameters." + e.setting(), "hyperparameters." + e.getMessage(), e);
        }
    }

    /** The base model's config.json, if it is in the store yet. */
    private static Optional<ModelConfig> baseModel(String name, ObjectStore store) {
        String key = ObjectKeys.baseModel(name, ModelConfigJson.FILE_NAME);
        if (!store.exists(key)) {
            return Optional.empty();
        }
        try {
            return Optional.of(
                    ModelConfigJson.parse(new String(store.getBytes(key), StandardCharsets.UTF_8), Path.of(key)));
        } catch (CheckpointException | IllegalArgumentException e) {
            throw new InvalidInputException("baseModel", "baseModel: " + key + " cannot be used: " + e.getMessage(), e);
        }
    }
}
