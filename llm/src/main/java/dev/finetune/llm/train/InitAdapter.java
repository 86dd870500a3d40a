package dev.finetune.llm.train;

import dev.finetune.contracts.RegistryReference;
import dev.finetune.llm.checkpoint.CheckpointException;
import dev.finetune.llm.lora.LoraConfig;
import dev.finetune.llm.peft.AdapterConfigJson;
import dev.finetune.llm.settings.Setting;
import dev.finetune.llm.settings.SettingException;
import dev.finetune.llm.settings.SettingValues;
import dev.finetune.llm.settings.Settings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * Continued training ({@code init_adapter}): LoRA, QLoRA or DoRA training that starts from a saved
 * PEFT adapter's weights, as {@code PeftModel.from_pretrained(model, dir, is_trainable=True)} does.
 * As in PEFT, the adapter's {@code adapter_config.json} decides its shape and scaling: lora_r,
 * lora_alpha, lora_target_modules, use_rslora and use_dora are taken from it, and a job that sets one
 * of them to another value is refused rather than silently overridden. lora_dropout only acts while
 * training, so a job may set it; unset, it is the adapter's.
 *
 * <p>Only the weights are carried over: the optimizer's moments and the learning-rate schedule
 * start fresh (a PEFT adapter holds neither). The run therefore continues the parent's weights
 * exactly but not its optimizer trajectory; to continue a run exactly, resume it from its
 * checkpoint instead ({@code resume}).
 */
public final class InitAdapter {
    private InitAdapter() {}

    /**
     * The adapter directory an init_adapter {@code value} names.
     *
     * @throws TrainConfigException if init_adapter is a registry reference (which the training-service
     *     resolves to a directory) or not a PEFT adapter directory
     */
    static Path directory(String value) throws TrainConfigException {
        if (RegistryReference.isReference(value)) {
            throw new TrainConfigException("init_adapter \"" + value + "\" names a registered version, which only"
                    + " training-service jobs resolve; here give the directory of a PEFT adapter");
        }
        Path directory = Path.of(value);
        if (!Files.isRegularFile(directory.resolve(AdapterConfigJson.FILE_NAME))) {
            throw new TrainConfigException("init_adapter \"" + value + "\": "
                    + directory.resolve(AdapterConfigJson.FILE_NAME) + " does not exist: not a PEFT adapter directory");
        }
        return directory;
    }

    /**
     * {@code settings} with the adapter's lora_r, lora_alpha, lora_target_modules, use_rslora and
     * use_dora (and lora_dropout, unless set) made explicit, so every later reader (memory estimate,
     * the adapters attached) sees the adapter's shape.
     *
     * @param saved the adapter's config
     * @param modelLinears the names of the base model's decoder linears, against which target module
     *     lists are compared ("all-linear" selects them all)
     * @param configFile the adapter_config.json the config came from, for messages
     * @throws SettingException naming the setting, the job's value, the file and the adapter's value
     */
    public static SettingValues adopt(
            SettingValues settings, LoraConfig saved, Collection<String> modelLinears, String configFile) {
        SettingValues adopted = settings;
        adopted = agree(adopted, Settings.LORA_R, saved.r(), configFile, "r");
        adopted = agree(adopted, Settings.LORA_ALPHA, saved.alpha(), configFile, "lora_alpha");
        adopted = agree(adopted, Settings.USE_RSLORA, saved.useRslora(), configFile, "use_rslora");
        adopted = agree(adopted, Settings.USE_DORA, saved.useDora(), configFile, "use_dora");
        List<String> targets = settings.explicit(Settings.LORA_TARGET_MODULES).orElse(null);
        if (targets != null && !selected(targets, modelLinears).equals(selected(saved.targetModules(), modelLinears))) {
            throw conflict(Settings.LORA_TARGET_MODULES, targets, configFile, "target_modules", saved.targetModules());
        }
        adopted = adopted.with(Settings.LORA_TARGET_MODULES, saved.targetModules());
        if (settings.explicit(Settings.LORA_DROPOUT).isEmpty()) {
            adopted = adopted.with(Settings.LORA_DROPOUT, saved.dropout());
        }
        return adopted;
    }

    private static <T> SettingValues agree(
            SettingValues settings, Setting<T> setting, T saved, String configFile, String key) {
        T asked = settings.explicit(setting).orElse(null);
        if (asked != null && !Objects.equals(asked, saved)) {
            throw conflict(setting, asked, configFile, key, saved);
        }
        return settings.with(setting, saved);
    }

    private static SettingException conflict(
            Setting<?> setting, Object asked, String configFile, String key, Object saved) {
        return new SettingException(
                setting.name(),
                setting.name() + " " + asked + " disagrees with init_adapter's " + configFile + ", whose " + key
                        + " is " + saved + ": continued training takes the adapter's " + key + " (as PEFT's"
                        + " from_pretrained); leave " + setting.name() + " unset or set it to " + saved);
    }

    /** The linear names {@code targets} select, "all-linear" and paths like "self_attn.q_proj" resolved. */
    private static Set<String> selected(List<String> targets, Collection<String> modelLinears) {
        Set<String> names = new TreeSet<>();
        for (String name : modelLinears) {
            for (String target : targets) {
                if (target.equals(LoraConfig.ALL_LINEAR) || target.equals(name) || target.endsWith("." + name)) {
                    names.add(name);
                }
            }
        }
        return names;
    }

    /** Reads the adapter's config, as a job error naming the setting when it is not usable. */
    static LoraConfig readConfig(Path directory) throws TrainConfigException {
        try {
            return AdapterConfigJson.read(directory.resolve(AdapterConfigJson.FILE_NAME))
                    .lora();
        } catch (CheckpointException e) {
            throw new TrainConfigException("init_adapter: " + e.getMessage(), e);
        }
    }
}
