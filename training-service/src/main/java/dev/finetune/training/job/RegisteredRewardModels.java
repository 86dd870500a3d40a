package dev.finetune.training.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.contracts.RegistryReference;
import dev.finetune.events.Hyperparameters;
import dev.finetune.events.RegisteredVersion;
import dev.finetune.llm.checkpoint.CheckpointException;
import dev.finetune.llm.checkpoint.ModelConfig;
import dev.finetune.llm.checkpoint.ModelConfigJson;
import dev.finetune.llm.peft.AdapterConfigJson;
import dev.finetune.llm.rewards.ModelReward;
import dev.finetune.llm.settings.SettingValues;
import dev.finetune.llm.settings.Settings;
import dev.finetune.llm.train.Method;
import dev.finetune.storage.ObjectKeys;
import dev.finetune.storage.ObjectStore;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The registered reward models a job's rewards name: a {@code reward_funcs} entry {@code
 * model:registry:<model>@<version or alias>}, read from the registry's layout in the object store as
 * {@link RegisteredAdapters} reads init_adapter.
 *
 * <ol>
 *   <li>When the job is validated ({@link #resolve}), each reference is resolved and pinned (an alias may
 *       move before the job runs or while it resumes), and the version must be a reward model that reads
 *       the job's tokens: a full sequence classifier ({@code *ForSequenceClassification}, with the base
 *       model's vocab_size), or a SEQ_CLS adapter trained on the job's base model.
 *   <li>When a worker runs it ({@link #download}), each version's files are downloaded, each checked
 *       against the size and SHA-256 its manifest records, and the entry is rewritten to {@code
 *       model:<local directory>} for llm's {@link ModelReward}.
 * </ol>
 */
@ApplicationScoped
public class RegisteredRewardModels {
    private static final String FIELD = "hyperparameters." + Settings.REWARD_FUNCS.name();

    private final ObjectStore store;
    private final RegistryVersions registry;
    private final ObjectMapper json = new ObjectMapper();

    RegisteredRewardModels(ObjectStore store) {
        this.store = store;
        this.registry = new RegistryVersions(store);
    }

    /**
     * The reward model version the job trains against, once {@link #resolve} pinned it (the first, if
     * several): what the registry records in the policy's lineage.
     */
    public static Optional<RegisteredVersion> rewardModel(JobRecord job) {
        return pinned(job).stream().findFirst();
    }

    private static List<RegisteredVersion> pinned(JobRecord job) {
        Object value = job.hyperparameters().values().get(Settings.REWARD_FUNCS.name());
        List<RegisteredVersion> versions = new ArrayList<>();
        if (value instanceof List<?> specs) {
            for (Object spec : specs) {
                if (spec instanceof String text && text.startsWith(ModelReward.PREFIX)) {
                    String location =
                            text.substring(ModelReward.PREFIX.length()).strip();
                    if (RegistryReference.isValid(location)
                            && RegistryReference.parse(location).isPinned()) {
                        RegistryReference reference = RegistryReference.parse(location);
                        versions.add(new RegisteredVersion(reference.model(), reference.version()));
                    }
                }
            }
        }
        return versions;
    }

    /**
     * The config of each reward model the job loads once {@link #resolve} pinned them, for its memory
     * estimate: a SEQ_CLS adapter loads a copy of the job's base ({@code base}); a sequence classifier is
     * its own config.json.
     */
    public List<ModelConfig> configs(JobRecord job, ModelConfig base) {
        List<ModelConfig> configs = new ArrayList<>();
        for (RegisteredVersion version : pinned(job)) {
            RegistryReference reference =
                    RegistryReference.parse(RegistryReference.SCHEME + version.model() + "@" + version.version());
            JsonNode manifest = registry.manifest(reference, version.version(), FIELD);
            if ("adapter".equals(manifest.path("kind").asText())) {
                configs.add(base);
                continue;
            }
            String configKey = ObjectKeys.registry(version.model(), version.version(), ModelConfigJson.FILE_NAME);
            try {
                byte[] bytes = registry.verifiedBytes(configKey, manifest, ModelConfigJson.FILE_NAME);
                configs.add(ModelConfigJson.parse(new String(bytes, StandardCharsets.UTF_8), Path.of(configKey)));
            } catch (IOException e) {
                throw new InvalidJobException(FIELD, FIELD + ": " + configKey + " cannot be read: " + e.getMessage());
            }
        }
        return configs;
    }

    /**
     * The job with each reward model reference pinned to a version; the job as it is if it names none.
     *
     * @param base the job's base model
     * @throws InvalidJobException naming {@code hyperparameters.reward_funcs[i]}, the value and what is
     *     known (the model's versions and aliases) or why the version is not a reward model
     */
    public JobRecord resolve(JobRecord job, ModelConfig base) {
        SettingValues settings = SettingValues.read(job.hyperparameters().values());
        List<String> specs =
                settings.get(Settings.REWARD_FUNCS, Method.parse(job.method().code()));
        if (specs.stream().noneMatch(spec -> spec.startsWith(ModelReward.PREFIX))) {
            return job;
        }
        List<String> resolved = new ArrayList<>();
        for (int i = 0; i < specs.size(); i++) {
            String spec = specs.get(i);
            if (!spec.startsWith(ModelReward.PREFIX)) {
                resolved.add(spec);
                continue;
            }
            String field = FIELD + "[" + i + "]";
            String location = spec.substring(ModelReward.PREFIX.length()).strip();
            if (!RegistryReference.isValid(location)) {
                throw new InvalidJobException(
                        field,
                        field + " \"" + spec + "\" must be model:" + RegistryReference.SYNTAX + " in a job (a worker"
                                + " has no local reward model directories)");
            }
            RegistryReference reference = RegistryReference.parse(location);
            long version = reference.isPinned() ? reference.version() : registry.aliasTarget(reference, field);
            JsonNode manifest = registry.manifest(reference, version, field);
            checkRewardModel(job, base, reference, version, manifest, field, spec);
            resolved.add(ModelReward.PREFIX + reference.pinned(version));
        }
        return job.withHyperparameters(new Hyperparameters(
                settings.with(Settings.REWARD_FUNCS, resolved).toPlainMap()));
    }

    /** A reward model that reads the job's tokens: a sequence classifier of its vocabulary, or a SEQ_CLS adapter on its base. */
    private void checkRewardModel(
            JobRecord job,
            ModelConfig base,
            RegistryReference reference,
            long version,
            JsonNode manifest,
            String field,
            String spec) {
        String what = field + " \"" + spec + "\": " + reference.model() + " version " + version;
        String kind = manifest.path("kind").asText();
        try {
            if ("adapter".equals(kind)) {
                String configKey = ObjectKeys.registry(reference.model(), version, AdapterConfigJson.FILE_NAME);
                JsonNode config =
                        json.readTree(registry.verifiedBytes(configKey, manifest, AdapterConfigJson.FILE_NAME));
                String taskType = config.path("task_type").asText("none");
                if (!AdapterConfigJson.SEQ_CLS.equals(taskType)) {
                    throw new InvalidJobException(
                            field,
                            what + " is not a reward model: its adapter's task_type is " + taskType + ", a reward"
                                    + " model's is " + AdapterConfigJson.SEQ_CLS
                                    + " (train one with objective reward)");
                }
                String trainedOn = manifest.path("baseModel").asText();
                if (!trainedOn.equals(job.baseModel())) {
                    throw new InvalidJobException(
                            field,
                            what + " is an adapter on base model " + trainedOn + ", this job's baseModel is "
                                    + job.baseModel() + "; a reward model's adapter scores on the policy's own base");
                }
                return;
            }
            String configKey = ObjectKeys.registry(reference.model(), version, ModelConfigJson.FILE_NAME);
            byte[] bytes = registry.verifiedBytes(configKey, manifest, ModelConfigJson.FILE_NAME);
            JsonNode architectures = json.readTree(bytes).path("architectures");
            String architecture = architectures.path(0).asText("none");
            if (!architecture.endsWith("ForSequenceClassification")) {
                throw new InvalidJobException(
                        field,
                        what + " is not a reward model: its config.json architectures is " + architectures
                                + ", a reward model is a *ForSequenceClassification (train one with objective reward)");
            }
            int vocabulary = ModelConfigJson.parse(new String(bytes, StandardCharsets.UTF_8), Path.of(configKey))
                    .vocabSize();
            if (vocabulary != base.vocabSize()) {
                throw new InvalidJobException(
                        field,
                        what + " has vocab_size " + vocabulary + ", base model " + job.baseModel() + " has "
                                + base.vocabSize() + ": a reward model scores the policy's tokens, so it must use"
                                + " the policy's tokenizer");
            }
        } catch (IOException e) {
            throw new InvalidJobException(field, what + ": " + e.getMessage());
        }
    }

    /**
     * The job's reward_funcs with each pinned reward model downloaded under {@code directory}/&lt;model&gt;/&lt;version&gt;
     * (every file of its manifest, verified; a file already there that verifies is kept) and named by
     * that directory; the entries as they are if it names none.
     *
     * @throws CheckpointException naming the key and both hashes if a file is not what the registry
     *     recorded (bad input: the job fails, it is not retried)
     */
    public List<String> download(JobRecord job, Path directory) throws IOException {
        SettingValues settings = SettingValues.read(job.hyperparameters().values());
        List<String> specs =
                settings.get(Settings.REWARD_FUNCS, Method.parse(job.method().code()));
        List<String> local = new ArrayList<>();
        for (String spec : specs) {
            String location = spec.startsWith(ModelReward.PREFIX)
                    ? spec.substring(ModelReward.PREFIX.length()).strip()
                    : "";
            if (!RegistryReference.isValid(location)
                    || !RegistryReference.parse(location).isPinned()) {
                local.add(spec);
                continue;
            }
            RegistryReference reference = RegistryReference.parse(location);
            Path target = directory.resolve(reference.model()).resolve(reference.versionOrAlias());
            JsonNode manifest =
                    json.readTree(store.getBytes(ObjectKeys.registryManifest(reference.model(), reference.version())));
            Iterator<Map.Entry<String, JsonNode>> files = manifest.path("files").fields();
            while (files.hasNext()) {
                String name = files.next().getKey();
                registry.download(reference.model(), reference.version(), manifest, name, target.resolve(name));
            }
            local.add(ModelReward.PREFIX + target);
        }
        return local;
    }
}
