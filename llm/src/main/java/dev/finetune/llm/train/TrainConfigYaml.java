package dev.finetune.llm.train;

import dev.finetune.llm.lora.LoraConfig;
import dev.finetune.llm.optim.ScheduleType;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Supplier;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * Reads a {@link TrainConfig} from a YAML job file (see {@code examples/*.yaml}). Keys are the
 * snake_case names transformers, TRL and PEFT users know; every key but {@code model}, {@code
 * train_file} and {@code output_dir} is optional and defaults as its record documents. Relative
 * paths are resolved against the job file's directory. Unknown keys, wrong types and invalid values
 * fail with the file, the key and the value.
 */
public final class TrainConfigYaml {
    private static final Set<String> TOP = Set.of(
            "model", "train_file", "output_dir", "method", "objective", "resume", "training", "sft", "dpo", "lora");
    private static final Set<String> TRAINING = Set.of(
            "learning_rate",
            "num_train_epochs",
            "max_steps",
            "per_device_train_batch_size",
            "gradient_accumulation_steps",
            "lr_scheduler_type",
            "warmup_ratio",
            "warmup_steps",
            "weight_decay",
            "max_grad_norm",
            "adam_beta1",
            "adam_beta2",
            "adam_epsilon",
            "max_seq_length",
            "seed",
            "save_steps",
            "save_total_limit");
    private static final Set<String> SFT = Set.of("assistant_only_loss", "packing");
    private static final Set<String> DPO = Set.of("beta", "max_prompt_length", "loss_type");
    private static final Set<String> LORA =
            Set.of("r", "alpha", "dropout", "target_modules", "use_rslora", "bias", "double_quantization");

    private TrainConfigYaml() {}

    public static TrainConfig load(Path file) throws TrainConfigException {
        String name = file.toString();
        Object document;
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            document = new Yaml(new SafeConstructor(new LoaderOptions())).load(reader);
        } catch (YAMLException e) {
            throw new TrainConfigException(name + ": not valid YAML: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new TrainConfigException(name + ": cannot be read: " + e.getMessage(), e);
        }
        if (!(document instanceof Map<?, ?> map)) {
            throw new TrainConfigException(name + ": the job must be a YAML mapping of settings");
        }
        Path base = file.toAbsolutePath().getParent();
        YamlSection top = new YamlSection(name, "", map);
        try {
            return read(top, base);
        } catch (IllegalArgumentException e) {
            throw top.invalid(e.getMessage(), e);
        }
    }

    private static TrainConfig read(YamlSection top, Path base) throws TrainConfigException {
        Path model = base.resolve(top.string("model"));
        Path trainFile = base.resolve(top.string("train_file"));
        Path outputDir = base.resolve(top.string("output_dir"));
        Method method = top.has("method") ? parse(top, "method", Method::parse) : Method.LORA;
        Objective objective = top.has("objective") ? parse(top, "objective", Objective::parse) : Objective.SFT;
        TrainConfig config = TrainConfig.of(model, trainFile, outputDir, method, objective);
        if (top.has("resume")) {
            config = config.withResume(top.bool("resume"));
        }
        config = config.withTraining(training(top.section("training"), config.training()))
                .withSft(sft(top.section("sft"), config.sft()))
                .withDpo(dpo(top.section("dpo"), config.dpo()))
                .withLora(lora(top.section("lora"), config.lora()));
        top.rejectUnknownKeys(TOP);
        return config;
    }

    private static TrainingArguments training(YamlSection s, TrainingArguments defaults) throws TrainConfigException {
        TrainingArguments.Builder b = defaults.toBuilder();
        s.ifNumber("learning_rate", b::learningRate);
        s.ifNumber("num_train_epochs", b::numTrainEpochs);
        s.ifInteger("max_steps", b::maxSteps);
        s.ifInteger("per_device_train_batch_size", b::batchSize);
        s.ifInteger("gradient_accumulation_steps", b::gradientAccumulationSteps);
        if (s.has("lr_scheduler_type")) {
            b.scheduler(parse(s, "lr_scheduler_type", ScheduleType::parse));
        }
        s.ifNumber("warmup_ratio", b::warmupRatio);
        s.ifInteger("warmup_steps", b::warmupSteps);
        s.ifNumber("weight_decay", b::weightDecay);
        s.ifNumber("max_grad_norm", b::maxGradNorm);
        s.ifNumber("adam_beta1", b::adamBeta1);
        s.ifNumber("adam_beta2", b::adamBeta2);
        s.ifNumber("adam_epsilon", b::adamEpsilon);
        s.ifInteger("max_seq_length", b::maxSeqLength);
        if (s.has("seed")) {
            b.seed(s.longInteger("seed"));
        }
        s.ifInteger("save_steps", b::saveSteps);
        s.ifInteger("save_total_limit", b::saveTotalLimit);
        s.rejectUnknownKeys(TRAINING);
        return checked(s, b::build);
    }

    private static SftConfig sft(YamlSection s, SftConfig config) throws TrainConfigException {
        SftConfig c = config;
        if (s.has("assistant_only_loss")) {
            c = c.withAssistantOnlyLoss(s.bool("assistant_only_loss"));
        }
        if (s.has("packing")) {
            c = c.withPacking(s.bool("packing"));
        }
        s.rejectUnknownKeys(SFT);
        return c;
    }

    private static DpoConfig dpo(YamlSection s, DpoConfig defaults) throws TrainConfigException {
        if (s.has("loss_type") && !s.string("loss_type").equals("sigmoid")) {
            throw s.error(
                    "loss_type",
                    "must be \"sigmoid\" (the only DPO loss implemented), got \"" + s.string("loss_type") + "\"");
        }
        double beta = s.has("beta") ? s.number("beta") : defaults.beta();
        int maxPromptLength = s.has("max_prompt_length") ? s.integer("max_prompt_length") : defaults.maxPromptLength();
        s.rejectUnknownKeys(DPO);
        return checked(s, () -> new DpoConfig(beta, maxPromptLength));
    }

    private static LoraConfig lora(YamlSection s, LoraConfig defaults) throws TrainConfigException {
        int r = s.has("r") ? s.integer("r") : defaults.r();
        int alpha = s.has("alpha") ? s.integer("alpha") : defaults.alpha();
        double dropout = s.has("dropout") ? s.number("dropout") : defaults.dropout();
        List<String> targets = s.has("target_modules") ? s.strings("target_modules") : defaults.targetModules();
        boolean rslora = s.has("use_rslora") ? s.bool("use_rslora") : defaults.useRslora();
        String bias = s.has("bias") ? s.string("bias") : defaults.bias();
        boolean doubleQuantization =
                s.has("double_quantization") ? s.bool("double_quantization") : defaults.doubleQuantization();
        s.rejectUnknownKeys(LORA);
        // quantize_base is not a key: the method (qlora) decides it
        return checked(
                s,
                () -> new LoraConfig(
                        r, alpha, dropout, targets, rslora, bias, defaults.quantizeBase(), doubleQuantization));
    }

    /** Builds a record, reporting its validation message with the section's file and prefix. */
    private static <T> T checked(YamlSection s, Supplier<T> build) throws TrainConfigException {
        try {
            return build.get();
        } catch (IllegalArgumentException e) {
            throw s.invalid(e.getMessage(), e);
        }
    }

    private static <T> T parse(YamlSection s, String key, Function<String, T> parser) throws TrainConfigException {
        String text = s.string(key);
        return checked(s, () -> parser.apply(text));
    }
}
