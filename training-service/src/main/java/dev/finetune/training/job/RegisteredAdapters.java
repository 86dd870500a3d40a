package dev.finetune.training.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.contracts.RegistryReference;
import dev.finetune.events.Hyperparameters;
import dev.finetune.events.RegisteredVersion;
import dev.finetune.llm.checkpoint.CheckpointException;
import dev.finetune.llm.checkpoint.ModelConfig;
import dev.finetune.llm.lora.LoraConfig;
import dev.finetune.llm.peft.AdapterConfigJson;
import dev.finetune.llm.peft.PeftAdapter;
import dev.finetune.llm.settings.ModelBounds;
import dev.finetune.llm.settings.SettingException;
import dev.finetune.llm.settings.SettingValues;
import dev.finetune.llm.settings.Settings;
import dev.finetune.llm.train.InitAdapter;
import dev.finetune.llm.train.Method;
import dev.finetune.storage.ObjectKeys;
import dev.finetune.storage.ObjectStore;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The registered adapters a job continues training from: its {@code init_adapter} is {@code
 * registry:<model>@<version or alias>}, read from the registry's layout in the object store ({@link
 * RegistryVersions}).
 *
 * <ol>
 *   <li>When the job is validated ({@link #resolve}), the reference is resolved and pinned: an alias
 *       is replaced by the version it points at now, since it may move before the job runs or while
 *       it resumes. The version must be a complete adapter version trained on the job's base model,
 *       and its adapter_config.json (verified against the manifest) decides the LoRA settings, as in
 *       llm's {@link InitAdapter}; they are written into the job, so the memory estimate and the
 *       record show the adapter's shape.
 *   <li>When a worker runs it ({@link #download}), the adapter's files are downloaded and each is
 *       checked against the size and SHA-256 the version's manifest records.
 * </ol>
 */
@ApplicationScoped
public class RegisteredAdapters {
    /** The files of a PEFT adapter version that training reads. */
    static final List<String> ADAPTER_FILES = List.of(AdapterConfigJson.FILE_NAME, PeftAdapter.WEIGHTS_FILE);

    private static final String FIELD = "hyperparameters." + Settings.INIT_ADAPTER.name();
    private final ObjectStore store;
    private final RegistryVersions registry;
    private final ObjectMapper json = new ObjectMapper();

    RegisteredAdapters(ObjectStore store) {
        this.store = store;
        this.registry = new RegistryVersions(store);
    }

    /** The version a job continues training from, once {@link #resolve} pinned it; empty for a new adapter. */
    public static Optional<RegisteredVersion> parent(JobRecord job) {
        Object value = job.hyperparameters().values().get(Settings.INIT_ADAPTER.name());
        if (!(value instanceof String text) || !RegistryReference.isReference(text)) {
            return Optional.empty();
        }
        RegistryReference reference = RegistryReference.parse(text);
        return reference.isPinned()
                ? Optional.of(new RegisteredVersion(reference.model(), reference.version()))
                : Optional.empty();
    }

    /**
     * The job with its init_adapter pinned to a version and the adapter's LoRA settings made explicit;
     * the job as it is if it has none.
     *
     * @param base the job's base model
     * @throws InvalidJobException naming {@code hyperparameters.init_adapter} (or the LoRA setting that
     *     disagrees with the adapter), the value and what is known
     */
    public JobRecord resolve(JobRecord job, ModelConfig base) {
        SettingValues settings = SettingValues.read(job.hyperparameters().values());
        String value =
                settings.get(Settings.INIT_ADAPTER, Method.parse(job.method().code()));
        if (value.isEmpty()) {
            return job;
        }
        if (!RegistryReference.isReference(value)) {
            throw new InvalidJobException(
                    FIELD,
                    FIELD + " must be " + RegistryReference.SYNTAX + " in a job (a worker has no local adapter"
                            + " directories), got \"" + value + "\"");
        }
        RegistryReference reference = RegistryReference.parse(value);
        long version = reference.isPinned() ? reference.version() : registry.aliasTarget(reference, FIELD);
        JsonNode manifest = registry.manifest(reference, version, FIELD);
        String where = reference.model() + " version " + version;
        if (!"adapter".equals(manifest.path("kind").asText())) {
            throw new InvalidJobException(
                    FIELD,
                    FIELD + " " + value + ": " + where + " is a "
                            + manifest.path("kind").asText()
                            + ", not a PEFT adapter; continued training starts from an adapter version");
        }
        String trainedOn = manifest.path("baseModel").asText();
        if (!trainedOn.equals(job.baseModel())) {
            throw new InvalidJobException(
                    FIELD,
                    FIELD + " " + value + ": " + where + " was trained on base model " + trainedOn + ", this job's"
                            + " baseModel is " + job.baseModel()
                            + "; an adapter continues on the base it was trained on");
        }
        String configKey = ObjectKeys.registry(reference.model(), version, AdapterConfigJson.FILE_NAME);
        LoraConfig saved;
        try {
            saved = AdapterConfigJson.parse(
                            registry.verifiedBytes(configKey, manifest, AdapterConfigJson.FILE_NAME),
                            Path.of(configKey))
                    .lora();
        } catch (IOException e) {
            throw new InvalidJobException(FIELD, FIELD + " " + value + ": " + e.getMessage());
        }
        SettingValues adopted;
        try {
            adopted = InitAdapter.adopt(settings, saved, ModelBounds.linearNames(base), configKey);
        } catch (SettingException e) {
            throw new InvalidJobException("hyperparameters." + e.setting(), "hyperparameters." + e.getMessage());
        }
        adopted = adopted.with(Settings.INIT_ADAPTER, reference.pinned(version).toString());
        return job.withHyperparameters(new Hyperparameters(adopted.toPlainMap()));
    }

    /**
     * Downloads the adapter files of {@code version} into {@code directory}, each verified against the
     * version's manifest; a file that is already there and verifies is not downloaded again.
     *
     * @throws CheckpointException naming the key and both hashes if a file is not what the registry
     *     recorded (bad input: the job fails, it is not retried)
     */
    public Path download(RegisteredVersion version, Path directory) throws IOException {
        JsonNode manifest =
                json.readTree(store.getBytes(ObjectKeys.registryManifest(version.model(), version.version())));
        for (String name : ADAPTER_FILES) {
            registry.download(version.model(), version.version(), manifest, name, directory.resolve(name));
        }
        return directory;
    }
}
