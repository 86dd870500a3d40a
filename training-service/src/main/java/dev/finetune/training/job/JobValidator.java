package dev.finetune.training.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.contracts.PreparedManifest;
import dev.finetune.events.DatasetKind;
import dev.finetune.events.Hyperparameters;
import dev.finetune.events.Objective;
import dev.finetune.llm.checkpoint.CheckpointException;
import dev.finetune.llm.checkpoint.ModelConfig;
import dev.finetune.llm.checkpoint.ModelConfigJson;
import dev.finetune.llm.memory.JobMemory;
import dev.finetune.llm.memory.MemoryEstimate;
import dev.finetune.llm.memory.WorkerMemory;
import dev.finetune.llm.settings.SettingValues;
import dev.finetune.llm.settings.Settings;
import dev.finetune.llm.train.Method;
import dev.finetune.naming.InvalidNameException;
import dev.finetune.naming.Names;
import dev.finetune.storage.ObjectKeys;
import dev.finetune.storage.ObjectStore;
import dev.finetune.storage.PreparedManifests;
import dev.finetune.training.TrainingSettings;
import io.quarkus.runtime.configuration.MemorySize;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The {@code validating} state: everything that can be checked before a worker spends an hour on
 * the job, including the registered adapter it continues from ({@link RegisteredAdapters}) and the
 * registered reward models it is rewarded by ({@link RegisteredRewardModels}), that it fits a worker's memory and the service's token budget ({@link
 * TokenBudget}). Each failure says which field is wrong and why.
 */
@ApplicationScoped
public class JobValidator {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final ObjectStore store;
    private final long memoryLimit;
    private final TokenBudget budget;
    private final RegisteredAdapters adapters;
    private final RegisteredRewardModels rewardModels;

    JobValidator(
            ObjectStore store,
            TrainingSettings settings,
            RegisteredAdapters adapters,
            RegisteredRewardModels rewardModels) {
        this.store = store;
        this.adapters = adapters;
        this.rewardModels = rewardModels;
        this.memoryLimit = settings.memoryLimit().map(MemorySize::asLongValue).orElseGet(WorkerMemory::available);
        this.budget = new TokenBudget(settings.maxJobTokens());
    }

    /**
     * The job as it will run: its settings checked and normalised (numbers as numbers, the catalog's
     * order), and checked to fit a worker's memory, with an unset base_dtype chosen to fit.
     *
     * @throws InvalidJobException with a message a person can act on, and the field
     */
    public JobRecord validate(JobRecord job) {
        require(job.baseModel() != null, "baseModel", "baseModel is required");
        require(
                job.datasetName() != null && job.datasetVersion() != null,
                "dataset",
                "dataset name and version are required");
        require(job.method() != null, "method", "method is required (full, lora or qlora)");
        require(job.objective() != null, "objective", "objective is required (" + objectives() + ")");
        names(job);
        JobRecord checked =
                job.withHyperparameters(RecipeConfigs.checked(job.method(), job.objective(), job.hyperparameters()));
        String configKey = ObjectKeys.baseModel(job.baseModel(), ModelConfigJson.FILE_NAME);
        if (!store.exists(configKey)) {
            throw new InvalidJobException(
                    "baseModel",
                    "baseModel: unknown base model '" + job.baseModel() + "' (no " + configKey
                            + "); known base models: " + knownBaseModels());
        }
        ModelConfig config = baseModelConfig(configKey);
        checked = adapters.resolve(checked, config); // init_adapter pinned, the adapter's LoRA settings adopted
        checked = rewardModels.resolve(checked, config); // reward_funcs' registered reward models pinned
        RecipeConfigs.checkAgainst(config, checked);
        PreparedManifest manifest = manifest(job);
        DatasetKind kind = manifest.kind();
        if (!job.objective().trainsOn(kind)) {
            throw new InvalidJobException(
                    "objective",
                    "objective: " + job.objective().code() + " needs "
                            + job.objective().datasetKind().description()
                            + ", dataset " + job.datasetName() + "@" + job.datasetVersion() + " holds " + kind.code()
                            + " data: " + kind.description());
        }
        Method method = Method.parse(job.method().code());
        SettingValues values = SettingValues.read(checked.hyperparameters().values());
        budget.check(values, method, () -> trainTokens(manifest, values.get(Settings.MAX_SEQ_LENGTH, method)));
        return fitMemory(checked, config);
    }

    /**
     * The train split's tokens from the version's statistics ({@code splits.train.tokens} of its
     * stats.json); a version without statistics is bounded by its examples, each cut to {@code
     * maxSeqLength}.
     */
    private TokenBudget.TrainTokens trainTokens(PreparedManifest manifest, int maxSeqLength) {
        String dataset = manifest.datasetId();
        if (manifest.statsKey() == null || !store.exists(manifest.statsKey())) {
            long examples = manifest.train() == null ? 0 : manifest.train().examples();
            return new TokenBudget.TrainTokens(
                    examples * maxSeqLength,
                    "at most (no statistics) " + dataset + "'s " + examples + " train examples of max_seq_length "
                            + maxSeqLength);
        }
        JsonNode tokens;
        try {
            tokens = JSON.readTree(store.getBytes(manifest.statsKey()))
                    .path("splits")
                    .path("train")
                    .path("tokens");
        } catch (IOException e) {
            throw new InvalidJobException(
                    "dataset", "dataset: the statistics " + manifest.statsKey() + " cannot be read: " + e.getMessage());
        }
        if (!tokens.canConvertToLong()) {
            throw new InvalidJobException(
                    "dataset",
                    "dataset: the statistics " + manifest.statsKey() + " have no splits.train.tokens count, got "
                            + (tokens.isMissingNode() ? "none" : tokens));
        }
        return new TokenBudget.TrainTokens(tokens.asLong(), dataset + "'s train split");
    }

    /**
     * The job with its memory known: refused if its estimate exceeds a worker's memory even after an
     * unset base_dtype is chosen, naming both numbers and the changes that would fit.
     */
    private JobRecord fitMemory(JobRecord job, ModelConfig config) {
        JobMemory memory = new JobMemory(
                config,
                Method.parse(job.method().code()),
                job.objective(),
                Runtime.getRuntime().maxMemory(),
                rewardModels.configs(job, config));
        SettingValues settings = SettingValues.read(job.hyperparameters().values());
        SettingValues fitted = memory.fit(settings, memoryLimit);
        MemoryEstimate estimate = memory.estimate(fitted);
        if (estimate.total() > memoryLimit) {
            List<String> fits = memory.alternatives(fitted, memoryLimit);
            throw new InvalidJobException(
                    "hyperparameters",
                    "hyperparameters: the job needs about " + estimate.describe() + " but a training worker has "
                            + WorkerMemory.format(memoryLimit) + " (pipeline.training.memory-limit); "
                            + (fits.isEmpty()
                                    ? "no single setting fits: use a shorter max_seq_length, a smaller base model or"
                                            + " a larger worker"
                                    : "it would fit with " + String.join(", or ", fits)));
        }
        return job.withHyperparameters(new Hyperparameters(fitted.toPlainMap()));
    }

    /**
     * The base models a job may name, sorted: those under {@code models/base/} with a config.json (an
     * import writes it after the weights, so a half-imported model is not offered); "none" if none.
     */
    private String knownBaseModels() {
        List<String> known = store.listChildren(ObjectKeys.BASE_MODELS).stream()
                .filter(name ->
                        Names.isName(name) && store.exists(ObjectKeys.baseModel(name, ModelConfigJson.FILE_NAME)))
                .sorted()
                .toList();
        return known.isEmpty() ? "none" : String.join(", ", known);
    }

    private ModelConfig baseModelConfig(String key) {
        try {
            return ModelConfigJson.parse(new String(store.getBytes(key), StandardCharsets.UTF_8), Path.of(key));
        } catch (CheckpointException | IllegalArgumentException e) {
            throw new InvalidJobException("baseModel", "baseModel: " + key + " cannot be used: " + e.getMessage());
        }
    }

    private PreparedManifest manifest(JobRecord job) {
        String key = PreparedManifests.key(job.datasetName(), job.datasetVersion());
        PreparedManifest manifest;
        try {
            manifest = PreparedManifests.read(store, job.datasetName(), job.datasetVersion())
                    .orElseThrow(() -> new InvalidJobException(
                            "dataset",
                            "dataset: " + job.datasetName() + "@" + job.datasetVersion() + " is not prepared (no " + key
                                    + ")"));
        } catch (IOException e) {
            throw new InvalidJobException(
                    "dataset", "dataset: the manifest " + key + " cannot be read: " + e.getMessage());
        }
        if (!manifest.isPrepared()) {
            throw new InvalidJobException(
                    "dataset",
                    "dataset: " + job.datasetName() + "@" + job.datasetVersion() + " was " + manifest.status() + ": "
                            + manifest.rejection());
        }
        return manifest;
    }

    private static void names(JobRecord job) {
        try {
            Names.requireName("baseModel", job.baseModel());
            Names.requireName("dataset name", job.datasetName());
            Names.requireName("dataset version", job.datasetVersion());
            if (job.suffix() != null) {
                Names.requireName("suffix", job.suffix());
            }
        } catch (InvalidNameException e) {
            throw new InvalidJobException(e.field(), e.getMessage());
        }
    }

    private static String objectives() {
        return Arrays.stream(Objective.values()).map(Objective::code).collect(Collectors.joining(", "));
    }

    private static void require(boolean ok, String field, String message) {
        if (!ok) {
            throw new InvalidJobException(field, message);
        }
    }
}
