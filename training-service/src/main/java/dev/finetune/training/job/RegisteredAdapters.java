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
import dev.finetune.storage.Digests;
import dev.finetune.storage.ObjectKeys;
import dev.finetune.storage.ObjectNotFoundException;
import dev.finetune.storage.ObjectStore;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The registered adapters a job continues training from: its {@code init_adapter} is {@code
 * registry:<model>@<version or alias>}, read from the registry's layout in the object store ({@code
 * registry/<model>/<version>/} with its manifest, {@code registry/<model>/_aliases/<alias>.json}).
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
    /** How many known names a refusal lists. */
    private static final int LISTED = 20;

    private final ObjectStore store;
    private final ObjectMapper json = new ObjectMapper();

    RegisteredAdapters(ObjectStore store) {
        this.store = store;
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
        long version = reference.isPinned() ? reference.version() : aliasTarget(reference);
        JsonNode manifest = manifest(reference, version);
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
                            verifiedBytes(configKey, manifest, AdapterConfigJson.FILE_NAME), Path.of(configKey))
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
            String key = ObjectKeys.registry(version.model(), version.version(), name);
            Path file = directory.resolve(name);
            if (!Files.exists(file) || !matches(file, manifest, name)) {
                store.download(key, file);
                if (!matches(file, manifest, name)) {
                    String found = Files.size(file) + " bytes with SHA-256 " + Digests.of(file);
                    Files.delete(file);
                    throw mismatch(key, found, manifest, name);
                }
            }
        }
        return directory;
    }

    private boolean matches(Path file, JsonNode manifest, String name) throws IOException {
        JsonNode digest = manifest.path("files").path(name);
        return Files.size(file) == digest.path("size").asLong(-1)
                && Digests.of(file).equals(digest.path("sha256").asText());
    }

    private byte[] verifiedBytes(String key, JsonNode manifest, String name) throws CheckpointException {
        byte[] bytes = store.getBytes(key);
        JsonNode digest = manifest.path("files").path(name);
        if (bytes.length != digest.path("size").asLong(-1)
                || !Digests.of(bytes).equals(digest.path("sha256").asText())) {
            throw mismatch(key, bytes.length + " bytes with SHA-256 " + Digests.of(bytes), manifest, name);
        }
        return bytes;
    }

    /** Bad input, not an outage: a file the registry recorded otherwise is never trained from, nor retried. */
    private static CheckpointException mismatch(String key, String found, JsonNode manifest, String name) {
        JsonNode digest = manifest.path("files").path(name);
        return new CheckpointException(
                Path.of(key),
                null,
                "does not match the version's manifest: " + found + ", recorded "
                        + digest.path("size").asText("no") + " bytes with SHA-256 "
                        + digest.path("sha256").asText("none"));
    }

    /** The version an alias points at now. */
    private long aliasTarget(RegistryReference reference) {
        requireModel(reference);
        String key = ObjectKeys.registryAlias(reference.model(), reference.versionOrAlias());
        JsonNode alias = read(key)
                .orElseThrow(() -> new InvalidJobException(
                        FIELD,
                        FIELD + " " + reference + ": " + reference.model() + " has no alias "
                                + reference.versionOrAlias() + "; its aliases: " + known(aliases(reference.model()))
                                + "; its versions: " + known(versions(reference.model()))));
        JsonNode version = alias.path("version");
        if (!version.canConvertToLong()) {
            throw new InvalidJobException(
                    FIELD,
                    FIELD + " " + reference + ": alias " + reference.versionOrAlias() + " of " + reference.model()
                            + " points at no version (it was removed)");
        }
        return version.asLong();
    }

    /** The complete version's manifest. */
    private JsonNode manifest(RegistryReference reference, long version) {
        requireModel(reference);
        return read(ObjectKeys.registryManifest(reference.model(), version))
                .orElseThrow(() -> new InvalidJobException(
                        FIELD,
                        FIELD + " " + reference + ": " + reference.model() + " has no complete version " + version
                                + "; its versions: " + known(versions(reference.model()))));
    }

    private void requireModel(RegistryReference reference) {
        if (store.listChildren(ObjectKeys.registryModelPrefix(reference.model()))
                .isEmpty()) {
            List<String> models = store.listChildren("registry/").stream()
                    .filter(name -> !name.startsWith("_"))
                    .toList();
            throw new InvalidJobException(
                    FIELD,
                    FIELD + " " + reference + ": no registered model " + reference.model() + "; registered: "
                            + known(models));
        }
    }

    private List<String> versions(String model) {
        return store.listChildren(ObjectKeys.registryModelPrefix(model)).stream()
                .filter(name -> name.matches("[1-9][0-9]{0,17}"))
                .filter(name -> store.exists(ObjectKeys.registryManifest(model, Long.parseLong(name))))
                .sorted((a, b) -> Long.compare(Long.parseLong(a), Long.parseLong(b)))
                .toList();
    }

    private List<String> aliases(String model) {
        return store.listChildren(ObjectKeys.registryAliasesPrefix(model)).stream()
                .filter(name -> name.endsWith(".json"))
                .map(name -> name.substring(0, name.length() - ".json".length()))
                .toList();
    }

    private static String known(List<String> names) {
        if (names.isEmpty()) {
            return "none";
        }
        return names.size() <= LISTED
                ? String.join(", ", names)
                : String.join(", ", names.subList(0, LISTED)) + " and " + (names.size() - LISTED) + " more";
    }

    private Optional<JsonNode> read(String key) {
        try {
            return Optional.of(json.readTree(store.getBytes(key)));
        } catch (ObjectNotFoundException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new InvalidJobException(FIELD, FIELD + ": " + key + " cannot be read: " + e.getMessage());
        }
    }
}
