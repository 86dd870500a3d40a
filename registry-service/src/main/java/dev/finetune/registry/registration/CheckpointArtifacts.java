package dev.finetune.registry.registration;

import ai.djl.Device;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.events.CheckpointCreated;
import dev.finetune.events.FineTuneMethod;
import dev.finetune.events.Objective;
import dev.finetune.llm.checkpoint.Checkpoint;
import dev.finetune.llm.checkpoint.CheckpointException;
import dev.finetune.llm.checkpoint.ModelConfigJson;
import dev.finetune.llm.checkpoint.SafetensorsReader;
import dev.finetune.llm.lora.Adapters;
import dev.finetune.llm.lora.LoraConfig;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.model.ValueHead;
import dev.finetune.llm.peft.AdapterConfigJson;
import dev.finetune.llm.peft.MergedCheckpoint;
import dev.finetune.llm.peft.PeftAdapter;
import dev.finetune.llm.train.TrainableModel;
import dev.finetune.naming.Names;
import dev.finetune.registry.RegistrySettings;
import dev.finetune.registry.catalog.VersionManifest;
import dev.finetune.storage.LocalDirectories;
import dev.finetune.storage.ObjectInfo;
import dev.finetune.storage.ObjectKeys;
import dev.finetune.storage.ObjectStore;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Takes the files of a final checkpoint that make up a version, validated: a LoRA adapter in PEFT
 * layout (its config read strictly: no DoRA, bias "none", no modules_to_save but a reward model's
 * score head, which only an objective reward job's SEQ_CLS adapter has; its tensors checked
 * against the base model's shapes; the config rewritten in PEFT's canonical form naming the base
 * model), or, for full fine-tuning, the HuggingFace model files. Optimizer and trainer state are
 * never part of a version.
 */
@ApplicationScoped
public class CheckpointArtifacts {
    /** The trainer's manifest; read for the hyperparameters on the model card, not stored. */
    static final String TRAINER_STATE = "trainer_state.json";

    /**
     * PPO's value head, exported beside the adapter: {@code v_head.summary.weight} [1, C] and {@code
     * v_head.summary.bias} [1], the names TRL's {@code AutoModelForCausalLMWithValueHead} gives them.
     */
    static final String VALUE_HEAD_FILE = TrainableModel.VALUE_HEAD_FILE;

    private static final Pattern MODEL_WEIGHTS = Pattern.compile("model(-\\d{5}-of-\\d{5})?\\.safetensors");
    private static final Set<String> MODEL_FILES = Set.of(ModelConfigJson.FILE_NAME, "model.safetensors.index.json");

    private final ObjectStore store;
    private final RegistrySettings settings;
    private final ObjectMapper json = new ObjectMapper();

    CheckpointArtifacts(ObjectStore store, RegistrySettings settings) {
        this.store = store;
        this.settings = settings;
    }

    /**
     * The version's files, staged in a local directory that {@link #close} deletes.
     *
     * @param kind adapter or model (see VersionManifest)
     * @param files local files by the name they are stored under, in name order
     * @param hyperparameters what the adapter config and trainer state say
     * @param work the staging directory
     */
    public record Artifacts(String kind, Map<String, Path> files, Map<String, Object> hyperparameters, Path work)
            implements AutoCloseable {
        @Override
        public void close() throws IOException {
            LocalDirectories.deleteRecursively(work);
        }
    }

    /** Downloads and validates the files; an {@link InvalidCheckpointException} says what is wrong. */
    public Artifacts fetch(CheckpointCreated checkpoint) throws IOException {
        Files.createDirectories(settings.workDir());
        Path work = Files.createTempDirectory(settings.workDir(), "checkpoint-" + checkpoint.jobId() + "-");
        try {
            return fetch(checkpoint, work);
        } catch (IOException | RuntimeException e) {
            LocalDirectories.deleteRecursively(work);
            throw e;
        }
    }

    private Artifacts fetch(CheckpointCreated checkpoint, Path work) throws IOException {
        String prefix = checkpoint.prefix();
        if (prefix == null || !prefix.startsWith("checkpoints/") || !prefix.endsWith("/")) {
            throw new InvalidCheckpointException(
                    "checkpoint prefix must be checkpoints/<job>/step-<n>/, got '" + prefix + "'", null);
        }
        Map<String, ObjectInfo> objects = new TreeMap<>();
        for (ObjectInfo object : store.list(prefix)) {
            objects.put(Names.requireFilePath("checkpoint file", object.key().substring(prefix.length())), object);
        }
        if (objects.isEmpty()) {
            throw new InvalidCheckpointException("checkpoint " + prefix + " has no files", null);
        }
        Map<String, Object> hyperparameters = new LinkedHashMap<>();
        Artifacts artifacts = checkpoint.method() == FineTuneMethod.FULL
                ? model(prefix, objects, work, hyperparameters)
                : adapter(checkpoint, prefix, objects, work, hyperparameters);
        if (objects.containsKey(TRAINER_STATE)) {
            trainerState(store.download(prefix + TRAINER_STATE, work.resolve(TRAINER_STATE)), hyperparameters);
        }
        return artifacts;
    }

    private Artifacts adapter(
            CheckpointCreated checkpoint,
            String prefix,
            Map<String, ObjectInfo> objects,
            Path work,
            Map<String, Object> hyperparameters)
            throws IOException {
        Path dir = Files.createDirectories(work.resolve("adapter"));
        for (String name : new String[] {AdapterConfigJson.FILE_NAME, PeftAdapter.WEIGHTS_FILE}) {
            if (!objects.containsKey(name)) {
                throw new InvalidCheckpointException(
                        checkpoint.method().code() + " checkpoint " + prefix + " has no " + name
                                + " (expected a PEFT adapter: adapter_config.json + adapter_model.safetensors)",
                        null);
            }
            store.download(prefix + name, dir.resolve(name));
        }
        AdapterConfigJson.AdapterConfig config;
        try {
            config = AdapterConfigJson.read(dir.resolve(AdapterConfigJson.FILE_NAME));
        } catch (CheckpointException e) {
            throw new InvalidCheckpointException(prefix + AdapterConfigJson.FILE_NAME + ": " + problem(e), e);
        }
        LoraConfig lora = config.lora();
        boolean rewardModel = config.sequenceClassification();
        if (rewardModel != (checkpoint.objective() == Objective.REWARD)) {
            throw new InvalidCheckpointException(
                    prefix + AdapterConfigJson.FILE_NAME + ": task_type "
                            + (rewardModel ? AdapterConfigJson.SEQ_CLS : "CAUSAL_LM") + " from a "
                            + (checkpoint.objective() == null
                                    ? "?"
                                    : checkpoint.objective().code())
                            + " job: an objective reward job's adapter is a reward model's (task_type "
                            + AdapterConfigJson.SEQ_CLS + ", its score head in modules_to_save), and only its is",
                    null);
        }
        checkTensors(checkpoint.baseModel(), lora, rewardModel, dir.resolve(PeftAdapter.WEIGHTS_FILE), prefix, work);
        Files.writeString(
                dir.resolve(AdapterConfigJson.FILE_NAME),
                AdapterConfigJson.toJson(lora, lora.targetModules(), checkpoint.baseModel(), rewardModel));
        hyperparameters.put("lora_r", lora.r());
        hyperparameters.put("lora_alpha", lora.alphaAsWritten());
        hyperparameters.put("lora_dropout", lora.dropout());
        hyperparameters.put("target_modules", lora.targetModules());
        hyperparameters.put("use_rslora", lora.useRslora());
        hyperparameters.put("use_dora", lora.useDora());
        hyperparameters.put("bias", lora.bias());
        Map<String, Path> files = new TreeMap<>();
        files.put(AdapterConfigJson.FILE_NAME, dir.resolve(AdapterConfigJson.FILE_NAME));
        files.put(PeftAdapter.WEIGHTS_FILE, dir.resolve(PeftAdapter.WEIGHTS_FILE));
        if (checkpoint.objective() == Objective.PPO && objects.containsKey(VALUE_HEAD_FILE)) {
            Path valueHead = store.download(prefix + VALUE_HEAD_FILE, dir.resolve(VALUE_HEAD_FILE));
            checkValueHead(checkpoint.baseModel(), valueHead, prefix, work);
            files.put(VALUE_HEAD_FILE, valueHead);
        }
        return new Artifacts(VersionManifest.ADAPTER, files, hyperparameters, work);
    }

    /**
     * PPO's value head, [1, hidden_size] weight and [1] bias under TRL's names: what {@code
     * AutoModelForCausalLMWithValueHead} keeps as {@code v_head.summary}, for a user who continues PPO
     * from the version or reads its value estimates.
     */
    private void checkValueHead(String baseModel, Path file, String prefix, Path work) throws IOException {
        long hidden = ModelConfigJson.read(baseConfig(baseModel, work)).hiddenSize();
        Map<String, long[]> expected = new TreeMap<>(Map.of(
                ValueHead.WEIGHT, new long[] {1, hidden},
                ValueHead.BIAS, new long[] {1}));
        try (SafetensorsReader reader = SafetensorsReader.open(file)) {
            Map<String, long[]> found = new TreeMap<>();
            for (String name : reader.names()) {
                found.put(name, reader.info(name).shape());
            }
            boolean same = found.keySet().equals(expected.keySet())
                    && expected.entrySet().stream().allMatch(e -> Arrays.equals(e.getValue(), found.get(e.getKey())));
            if (!same) {
                throw new InvalidCheckpointException(
                        prefix + VALUE_HEAD_FILE + ": a PPO value head of base model '" + baseModel + "' holds "
                                + shapes(expected) + ", found " + shapes(found),
                        null);
            }
        } catch (CheckpointException e) {
            throw new InvalidCheckpointException(prefix + VALUE_HEAD_FILE + ": " + problem(e), e);
        }
    }

    private static String shapes(Map<String, long[]> tensors) {
        StringBuilder text = new StringBuilder();
        tensors.forEach((name, shape) -> text.append(text.length() == 0 ? "" : ", ")
                .append(name)
                .append(' ')
                .append(Arrays.toString(shape)));
        return text.length() == 0 ? "nothing" : text.toString();
    }

    /** The base model's config.json, downloaded into {@code work} (once). */
    private Path baseConfig(String baseModel, Path work) throws IOException {
        Path config = work.resolve("base-config").resolve(ModelConfigJson.FILE_NAME);
        if (Files.exists(config)) {
            return config;
        }
        String configKey = ObjectKeys.baseModel(baseModel, ModelConfigJson.FILE_NAME);
        if (!store.exists(configKey)) {
            throw new InvalidCheckpointException(
                    "base model '" + baseModel + "' has no " + configKey + ": cannot check the adapter", null);
        }
        return store.download(configKey, config);
    }

    /**
     * The adapter holds exactly the LoRA tensors the base model and its config call for, in their shapes,
     * and a reward model's adapter also its whole score head ({@code modules_to_save}), [1, hidden_size]:
     * one score, as HF's {@code *ForSequenceClassification} with num_labels=1.
     */
    private void checkTensors(
            String baseModel, LoraConfig lora, boolean rewardModel, Path weights, String prefix, Path work)
            throws IOException {
        Path config = baseConfig(baseModel, work);
        Map<String, long[]> expected;
        try (CausalLm skeleton = new CausalLm(ModelConfigJson.read(config), Device.cpu())) {
            expected = new LinkedHashMap<>(
                    Adapters.parameterShapes(skeleton, lora)); // module tree only: no weights are loaded
            if (rewardModel) {
                expected.put(
                        Adapters.PEFT_PREFIX + CausalLm.SCORE + ".weight",
                        new long[] {1, skeleton.config().hiddenSize()});
            }
        } catch (CheckpointException | IllegalArgumentException e) {
            throw new InvalidCheckpointException(
                    prefix + AdapterConfigJson.FILE_NAME + " does not fit base model '" + baseModel + "': "
                            + (e instanceof CheckpointException c ? problem(c) : e.getMessage()),
                    e);
        }
        try (SafetensorsReader reader = SafetensorsReader.open(weights)) {
            Set<String> unexpected = new TreeSet<>(reader.names());
            unexpected.removeAll(expected.keySet());
            if (!unexpected.isEmpty()) {
                throw new InvalidCheckpointException(
                        prefix + PeftAdapter.WEIGHTS_FILE + ": '"
                                + unexpected.iterator().next()
                                + "' is not a LoRA tensor of base model '" + baseModel + "' with this config ("
                                + unexpected.size() + " unexpected tensors)",
                        null);
            }
            for (Map.Entry<String, long[]> entry : expected.entrySet()) {
                if (!reader.names().contains(entry.getKey())) {
                    throw new InvalidCheckpointException(
                            prefix + PeftAdapter.WEIGHTS_FILE + ": '" + entry.getKey() + "' is missing", null);
                }
                long[] shape = reader.info(entry.getKey()).shape();
                if (!Arrays.equals(shape, entry.getValue())) {
                    throw new InvalidCheckpointException(
                            prefix + PeftAdapter.WEIGHTS_FILE + ": '" + entry.getKey() + "' has shape "
                                    + Arrays.toString(shape) + ", base model '" + baseModel + "' needs "
                                    + Arrays.toString(entry.getValue()),
                            null);
                }
            }
        } catch (CheckpointException e) {
            throw new InvalidCheckpointException(prefix + PeftAdapter.WEIGHTS_FILE + ": " + problem(e), e);
        }
    }

    private Artifacts model(
            String prefix, Map<String, ObjectInfo> objects, Path work, Map<String, Object> hyperparameters)
            throws IOException {
        Path dir = Files.createDirectories(work.resolve("model"));
        Map<String, Path> files = new TreeMap<>();
        for (String name : objects.keySet()) {
            if (MODEL_FILES.contains(name)
                    || MODEL_WEIGHTS.matcher(name).matches()
                    || MergedCheckpoint.COMPANION_FILES.contains(name)) {
                files.put(name, store.download(prefix + name, dir.resolve(name)));
            }
        }
        try (Checkpoint model = Checkpoint.open(dir)) {
            hyperparameters.put("model_type", model.config().modelType().hfName());
        } catch (CheckpointException e) {
            throw new InvalidCheckpointException(
                    "full fine-tuning checkpoint " + prefix + " is not a HuggingFace model: " + problem(e), e);
        }
        return new Artifacts(VersionManifest.MODEL, files, hyperparameters, work);
    }

    /** Adds what the trainer's manifest says about the run; a file it cannot read adds nothing. */
    private void trainerState(Path file, Map<String, Object> into) {
        JsonNode root;
        try {
            root = json.readTree(file.toFile());
        } catch (IOException e) {
            return;
        }
        if (root == null) {
            return;
        }
        copy(root.path("plan"), "batch_size", into);
        copy(root.path("plan"), "gradient_accumulation_steps", into);
        copy(root.path("plan"), "total_steps", into);
        copy(root.path("plan"), "seed", into);
        JsonNode schedule = root.path("schedule");
        if (schedule.path("type").isTextual()) {
            into.put("lr_scheduler", schedule.path("type").asText());
        }
        if (schedule.path("peak_learning_rate").isNumber()) {
            into.put("learning_rate", schedule.path("peak_learning_rate").doubleValue());
        }
        copy(schedule, "warmup_steps", into);
        if (root.path("epoch").isNumber()) {
            into.put("epochs", root.path("epoch").doubleValue());
        }
    }

    /** The problem without the local staging path (the message names the stored file instead). */
    private static String problem(CheckpointException e) {
        String local = e.file() == null ? "" : e.file().toString() + ": ";
        return e.getMessage().startsWith(local) ? e.getMessage().substring(local.length()) : e.getMessage();
    }

    private static void copy(JsonNode from, String field, Map<String, Object> into) {
        JsonNode value = from.path(field);
        if (value.isNumber()) {
            into.put(field, value.numberValue());
        }
    }
}
