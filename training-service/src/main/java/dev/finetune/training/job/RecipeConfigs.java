package dev.finetune.training.job;

import dev.finetune.events.FineTuneMethod;
import dev.finetune.events.Hyperparameters;
import dev.finetune.llm.lora.LoraConfig;
import dev.finetune.llm.optim.ScheduleType;
import dev.finetune.llm.train.DpoConfig;
import dev.finetune.llm.train.Method;
import dev.finetune.llm.train.Objective;
import dev.finetune.llm.train.SftConfig;
import dev.finetune.llm.train.TrainConfig;
import dev.finetune.llm.train.TrainingArguments;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns a job's requested hyperparameters into the recipe's configuration. The recipe validates
 * every value; its messages use the recipe's (TRL) names, which are translated here to the API's
 * field names, so a caller reads e.g. {@code hyperparameters.learningRate must be > 0, got -1}.
 */
public final class RecipeConfigs {
    /** Recipe name -> API field name, for error messages. */
    private static final Map<String, String> FIELD_NAMES = Map.ofEntries(
            Map.entry("learning_rate", "learningRate"),
            Map.entry("num_train_epochs", "epochs"),
            Map.entry("max_steps", "maxSteps"),
            Map.entry("per_device_train_batch_size", "batchSize"),
            Map.entry("gradient_accumulation_steps", "gradientAccumulationSteps"),
            Map.entry("lr_scheduler_type", "lrScheduler"),
            Map.entry("warmup_steps", "warmupSteps"),
            Map.entry("weight_decay", "weightDecay"),
            Map.entry("max_grad_norm", "maxGradNorm"),
            Map.entry("max_seq_length", "maxSeqLength"),
            Map.entry("save_steps", "checkpointEverySteps"),
            Map.entry("lora.r", "loraR"),
            Map.entry("lora.alpha", "loraAlpha"),
            Map.entry("lora.dropout", "loraDropout"),
            Map.entry("lora.target_modules", "targetModules"),
            Map.entry("dpo.beta", "dpoBeta"));

    private static final Pattern LEADING_NAME = Pattern.compile("^([a-z_.]+)(\\s|\\b)");

    private RecipeConfigs() {}

    /**
     * The recipe configuration of a job.
     *
     * @throws InvalidJobException naming the hyperparameter and its value if one is invalid
     */
    public static TrainConfig of(JobRecord job, Path model, Path trainFile, Path outputDir) {
        Hyperparameters h = job.hyperparameters() == null ? Hyperparameters.defaults() : job.hyperparameters();
        Method method = Method.parse(job.method().code());
        try {
            TrainingArguments.Builder t = TrainingArguments.defaults(method).toBuilder();
            if (h.learningRate() != null) t.learningRate(h.learningRate());
            if (h.epochs() != null) t.numTrainEpochs(h.epochs());
            if (h.maxSteps() != null) t.maxSteps(h.maxSteps());
            if (h.batchSize() != null) t.batchSize(h.batchSize());
            if (h.gradientAccumulationSteps() != null) t.gradientAccumulationSteps(h.gradientAccumulationSteps());
            if (h.lrScheduler() != null) t.scheduler(ScheduleType.parse(h.lrScheduler()));
            if (h.warmupSteps() != null) t.warmupSteps(h.warmupSteps());
            if (h.weightDecay() != null) t.weightDecay(h.weightDecay());
            if (h.maxGradNorm() != null) t.maxGradNorm(h.maxGradNorm());
            if (h.maxSeqLength() != null) t.maxSeqLength(h.maxSeqLength());
            if (h.seed() != null) t.seed(h.seed());
            if (h.checkpointEverySteps() != null) t.saveSteps(h.checkpointEverySteps());
            LoraConfig lora = LoraConfig.defaults().withQuantizeBase(job.method() == FineTuneMethod.QLORA);
            if (h.loraR() != null) lora = lora.withR(h.loraR());
            if (h.loraAlpha() != null) lora = lora.withAlpha(wholeNumber("loraAlpha", h.loraAlpha()));
            if (h.loraDropout() != null) lora = lora.withDropout(h.loraDropout());
            if (h.targetModules() != null) lora = lora.withTargetModules(h.targetModules());
            if (h.useRslora() != null) lora = lora.withUseRslora(h.useRslora());
            DpoConfig dpo = DpoConfig.defaults();
            if (h.dpoBeta() != null) dpo = dpo.withBeta(h.dpoBeta());
            return TrainConfig.of(
                            model,
                            trainFile,
                            outputDir,
                            method,
                            Objective.parse(job.objective().code()))
                    .withTraining(t.build())
                    .withLora(lora)
                    .withDpo(dpo)
                    .withSft(SftConfig.defaults());
        } catch (IllegalArgumentException e) {
            throw new InvalidJobException("hyperparameters." + apiName(e.getMessage()));
        }
    }

    private static int wholeNumber(String field, double value) {
        if (value != Math.rint(value) || value < 1) {
            throw new IllegalArgumentException(field + " must be a positive whole number, got " + value);
        }
        return (int) value;
    }

    /** Replaces the recipe's field name at the start of a message by the API's. */
    static String apiName(String message) {
        Matcher m = LEADING_NAME.matcher(message);
        if (m.find() && FIELD_NAMES.containsKey(m.group(1))) {
            return FIELD_NAMES.get(m.group(1)) + message.substring(m.group(1).length());
        }
        return message;
    }
}
