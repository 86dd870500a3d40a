package dev.finetune.training.job;

import dev.finetune.events.FineTuneMethod;
import dev.finetune.events.Hyperparameters;
import dev.finetune.events.Objective;
import dev.finetune.llm.checkpoint.ModelConfig;
import dev.finetune.llm.settings.ModelBounds;
import dev.finetune.llm.settings.SettingException;
import dev.finetune.llm.settings.SettingValues;
import dev.finetune.llm.train.Method;
import dev.finetune.llm.train.TrainConfig;
import java.nio.file.Path;

/**
 * Turns a job into the recipe's configuration. A job's {@code hyperparameters} are the engine's
 * settings by their HF/TRL names (declared once, in llm's {@code Settings}), so nothing is renamed
 * here: a bad value is reported as {@code hyperparameters.learning_rate must be > 0 and <= 1, got -1}.
 */
public final class RecipeConfigs {
    private RecipeConfigs() {}

    /**
     * The job's settings, checked on their own, against the method (full fine-tuning needs an fp32
     * base_dtype, qlora an nf4 one) and against the objective (precompute_ref_log_probs needs a reference
     * model): numbers as numbers, in the catalog's order.
     *
     * @throws InvalidJobException naming {@code hyperparameters.<setting>} and the value, or the
     *     closest known name for an unknown one
     */
    public static Hyperparameters checked(FineTuneMethod method, Objective objective, Hyperparameters requested) {
        SettingValues values = settings(requested);
        try {
            TrainConfig.checkCombination(Method.parse(method.code()), values);
            TrainConfig.checkObjective(objective, Method.parse(method.code()), values);
        } catch (SettingException e) {
            throw invalid(e);
        }
        return new Hyperparameters(values.toPlainMap());
    }

    /**
     * The recipe configuration of a job.
     *
     * @throws InvalidJobException naming the hyperparameter and its value if one is invalid
     */
    public static TrainConfig of(JobRecord job, Path model, Path trainFile, Path outputDir) {
        return TrainConfig.of(
                model,
                trainFile,
                outputDir,
                Method.parse(job.method().code()),
                job.objective(),
                settings(job.hyperparameters()));
    }

    /** As {@link #of(JobRecord, Path, Path, Path)}, evaluating {@code validationFile} during training. */
    public static TrainConfig of(JobRecord job, Path model, Path trainFile, Path validationFile, Path outputDir) {
        return of(job, model, trainFile, outputDir).withValidationFile(validationFile);
    }

    /**
     * Checks the job's settings against its base model (sequence length, LoRA rank).
     *
     * @throws InvalidJobException naming {@code hyperparameters.<setting>}, its value and the limit
     */
    public static void checkAgainst(ModelConfig model, JobRecord job) {
        try {
            ModelBounds.check(model, of(job, Path.of("model"), Path.of("train.jsonl"), Path.of("out")));
        } catch (SettingException e) {
            throw new InvalidJobException("hyperparameters." + e.setting(), "hyperparameters." + e.getMessage());
        }
    }

    private static SettingValues settings(Hyperparameters requested) {
        try {
            return SettingValues.read(requested == null ? null : requested.values());
        } catch (SettingException e) {
            throw invalid(e);
        }
    }

    private static InvalidJobException invalid(SettingException e) {
        return new InvalidJobException("hyperparameters." + e.setting(), "hyperparameters." + e.getMessage());
    }
}
