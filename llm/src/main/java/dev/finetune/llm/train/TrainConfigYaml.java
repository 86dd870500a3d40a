package dev.finetune.llm.train;

import dev.finetune.contracts.RegistryReference;
import dev.finetune.errors.InvalidInputException;
import dev.finetune.events.Objective;
import dev.finetune.llm.settings.SettingException;
import dev.finetune.llm.settings.SettingValues;
import dev.finetune.llm.settings.Settings;
import dev.finetune.llm.settings.SettingsCatalog;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * Reads a {@link TrainConfig} from a YAML job file (see {@code examples/*.yaml}): the job's own keys
 * ({@code model}, {@code train_file}, {@code output_dir} required; {@code validation_file}, {@code method},
 * {@code objective}, {@code resume}) and, at the same level, any of the {@link Settings} by their HF/TRL names. Relative
 * paths (also an {@code init_adapter} directory) are resolved against the job file's directory. Unknown keys (with the closest known name),
 * wrong types and invalid values fail with the file, the key and the value.
 */
public final class TrainConfigYaml {
    /** The keys that describe the job rather than tune it. */
    static final List<String> JOB_KEYS =
            List.of("model", "train_file", "validation_file", "output_dir", "method", "objective", "resume");

    private TrainConfigYaml() {}

    public static TrainConfig load(Path file) throws TrainConfigException {
        return load(file, Settings.CATALOG);
    }

    /** Reads a job file whose settings come from {@code catalog}. */
    public static TrainConfig load(Path file, SettingsCatalog catalog) throws TrainConfigException {
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
        Map<String, Object> job = new LinkedHashMap<>();
        Map<String, Object> settings = new LinkedHashMap<>();
        for (Map.Entry<?, ?> entry : map.entrySet()) {
            if (!(entry.getKey() instanceof String key)) {
                throw new TrainConfigException(name + ": " + entry.getKey() + " keys must be strings");
            }
            if (JOB_KEYS.contains(key)) {
                job.put(key, entry.getValue());
            } else if (entry.getValue() instanceof Map<?, ?>) {
                throw new TrainConfigException(name + ": " + key
                        + " must not be a mapping: settings are written at the top level of the job file"
                        + " (learning_rate: 2e-4, lora_r: 16)");
            } else if (catalog.find(key).isEmpty()) {
                throw new TrainConfigException(name + ": " + key + " is not a known setting"
                        + SettingsCatalog.closest(key, knownKeys(catalog))
                                .map(c -> "; did you mean " + c + "?")
                                .orElse("; known: " + String.join(", ", knownKeys(catalog))));
            } else {
                settings.put(key, entry.getValue());
            }
        }
        try {
            Path base = file.toAbsolutePath().getParent();
            Objective objective = parsed(name, job, "objective", Objective::fromCode, Objective.SFT);
            // read for the objective: a setting objectives read differently is checked by this one's rule
            SettingValues values = relativeTo(base, SettingValues.read(settings, catalog, objective));
            return read(name, job, base, objective, values);
        } catch (SettingException e) {
            throw new TrainConfigException(name + ": " + e.getMessage(), e);
        }
    }

    /** An init_adapter directory given relative to the job file, made absolute as the job's other paths. */
    private static SettingValues relativeTo(Path base, SettingValues settings) {
        return settings.explicit(Settings.INIT_ADAPTER)
                .filter(value -> !value.isEmpty() && !RegistryReference.isReference(value))
                .map(value ->
                        settings.with(Settings.INIT_ADAPTER, base.resolve(value).toString()))
                .orElse(settings);
    }

    private static TrainConfig read(
            String file, Map<String, Object> job, Path base, Objective objective, SettingValues settings)
            throws TrainConfigException {
        Path model = base.resolve(required(file, job, "model"));
        Path trainFile = base.resolve(required(file, job, "train_file"));
        Path outputDir = base.resolve(required(file, job, "output_dir"));
        Method method = parsed(file, job, "method", Method::parse, Method.LORA);
        Path validationFile =
                job.get("validation_file") == null ? null : base.resolve(required(file, job, "validation_file"));
        Object resume = job.get("resume");
        if (resume != null && !(resume instanceof Boolean)) {
            throw new TrainConfigException(file + ": resume must be true or false, got " + quoted(resume));
        }
        return new TrainConfig(
                model,
                trainFile,
                validationFile,
                outputDir,
                method,
                objective,
                resume == null || (Boolean) resume,
                settings);
    }

    private static String required(String file, Map<String, Object> job, String key) throws TrainConfigException {
        Object value = job.get(key);
        if (value == null) {
            throw new TrainConfigException(file + ": " + key + " is required");
        }
        if (value instanceof Map || value instanceof List) {
            throw new TrainConfigException(file + ": " + key + " must be a string, got " + quoted(value));
        }
        return value.toString();
    }

    private static <T> T parsed(String file, Map<String, Object> job, String key, Function<String, T> parser, T absent)
            throws TrainConfigException {
        if (job.get(key) == null) {
            return absent;
        }
        String text = required(file, job, key);
        try {
            return parser.apply(text);
        } catch (IllegalArgumentException | InvalidInputException e) {
            throw new TrainConfigException(file + ": " + e.getMessage(), e);
        }
    }

    private static String quoted(Object value) {
        if (value instanceof String text) {
            return "\"" + text + "\"";
        }
        return value instanceof Map ? "a mapping" : value instanceof List<?> ? "a list" : String.valueOf(value);
    }

    /** Every key a job file may hold: the job's own, then the catalog's settings. */
    public static List<String> knownKeys(SettingsCatalog catalog) {
        List<String> keys = new ArrayList<>(JOB_KEYS);
        catalog.all().forEach(s -> keys.add(s.name()));
        return keys;
    }
}
