package dev.finetune.llm.peft;

import ai.djl.ndarray.NDArray;
import dev.finetune.llm.checkpoint.CheckpointException;
import dev.finetune.llm.checkpoint.DType;
import dev.finetune.llm.checkpoint.SafetensorsReader;
import dev.finetune.llm.checkpoint.SafetensorsWriter;
import dev.finetune.llm.lora.Adapters;
import dev.finetune.llm.lora.LoraConfig;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.model.Parameter;
import dev.finetune.llm.quant.BaseDType;
import dev.finetune.llm.quant.BaseStorage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * LoRA adapters in PEFT's directory layout, which {@code PeftModel.from_pretrained} loads:
 * {@code adapter_config.json} and {@code adapter_model.safetensors} holding {@code
 * base_model.model.<module path>.lora_A.weight} [R, I] and {@code ...lora_B.weight} [O, R], and for
 * DoRA ({@code "use_dora": true}) {@code ...lora_magnitude_vector} [O]. A reward model's adapter
 * (task_type SEQ_CLS) also holds its whole score head, {@code base_model.model.score.weight} [1, C]
 * (see {@link Adapters#modulesToSave}).
 */
public final class PeftAdapter {
    public static final String WEIGHTS_FILE = "adapter_model.safetensors";

    private PeftAdapter() {}

    /** Saves the adapters with fp32 weights. */
    public static void save(Adapters adapters, Path directory, String baseModelNameOrPath) throws IOException {
        save(adapters, directory, baseModelNameOrPath, DType.F32);
    }

    /**
     * Writes adapter_config.json and adapter_model.safetensors into {@code directory} (created if
     * needed), weights stored as {@code dtype} (F32, or F16 / BF16 rounded to nearest even).
     */
    public static void save(Adapters adapters, Path directory, String baseModelNameOrPath, DType dtype)
            throws IOException {
        Files.createDirectories(directory);
        List<SafetensorsWriter.Entry> entries = new ArrayList<>();
        for (Map.Entry<String, Parameter> entry : adapters.trainableParameters().entrySet()) {
            NDArray array = entry.getValue().array();
            entries.add(
                    SafetensorsWriter.floats(entry.getKey(), array.getShape().getShape(), array.toFloatArray(), dtype));
        }
        SafetensorsWriter.write(directory.resolve(WEIGHTS_FILE), entries, Map.of("format", "pt"));
        LoraConfig config = adapters.config();
        List<String> targets = config.targetModules().equals(List.of(LoraConfig.ALL_LINEAR))
                ? adapters.targetModuleNames()
                : config.targetModules();
        AdapterConfigJson.write(
                config,
                targets,
                baseModelNameOrPath,
                adapters.model().hasScoreHead(),
                directory.resolve(AdapterConfigJson.FILE_NAME));
    }

    /** Applies a saved adapter to a fp32 {@code model} for inference (see {@link #load(CausalLm, Path, BaseStorage)}). */
    public static Adapters load(CausalLm model, Path adapterDirectory) throws CheckpointException {
        return load(model, adapterDirectory, BaseStorage.FP32);
    }

    /**
     * Attaches the adapter saved in {@code adapterDirectory} to {@code model}, in evaluation mode and
     * without gradients: what {@code --adapter DIR} does. The files are validated completely before
     * the model is touched, so a bad adapter leaves the model as it was.
     *
     * @param storage how the base linears are stored: as the model was loaded with, or fp32 linears
     *     to quantise now (nf4 for QLoRA inference)
     * @throws CheckpointException naming the file and the key or tensor that is wrong
     */
    public static Adapters load(CausalLm model, Path adapterDirectory, BaseStorage storage) throws CheckpointException {
        Path configFile = adapterDirectory.resolve(AdapterConfigJson.FILE_NAME);
        if (!Files.isRegularFile(configFile)) {
            throw new CheckpointException(configFile, null, "does not exist: not a PEFT adapter directory");
        }
        AdapterConfigJson.AdapterConfig adapterConfig = AdapterConfigJson.read(configFile);
        if (adapterConfig.sequenceClassification() != model.hasScoreHead()) {
            throw new CheckpointException(
                    configFile,
                    "task_type",
                    adapterConfig.sequenceClassification()
                            ? "is SEQ_CLS: a reward model's adapter (with its score head) loads onto a reward model"
                                    + " (RewardModel.load), not a language model"
                            : "is a language model's adapter; a reward model needs a SEQ_CLS adapter with its score head");
        }
        LoraConfig saved = adapterConfig.lora();
        LoraConfig config = saved.withBaseDtype(storage.dtype())
                .withDoubleQuantization(
                        storage.dtype() == BaseDType.NF4 ? storage.doubleQuantization() : saved.doubleQuantization());
        Map<String, long[]> shapes = expectedShapes(model, config, configFile);
        try (SafetensorsReader reader = openWeights(adapterDirectory)) {
            validate(reader, shapes);
            Adapters adapters = Adapters.apply(model, config, 0);
            copyWeights(reader, adapters);
            adapters.trainableParameters().values().forEach(p -> p.array().setRequiresGradient(false));
            adapters.setTraining(false);
            return adapters;
        }
    }

    /**
     * Replaces the values of existing adapters with those saved in {@code adapterDirectory}, in place
     * (arrays, gradient flags and optimizer references stay valid): for resuming training. The saved
     * adapter must have the same rank and adapted modules.
     */
    public static void loadWeights(Adapters adapters, Path adapterDirectory) throws CheckpointException {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        adapters.trainableParameters()
                .forEach((name, p) -> shapes.put(name, p.shape().getShape()));
        try (SafetensorsReader reader = openWeights(adapterDirectory)) {
            validate(reader, shapes);
            copyWeights(reader, adapters);
        }
    }

    private static Map<String, long[]> expectedShapes(CausalLm model, LoraConfig config, Path configFile)
            throws CheckpointException {
        try {
            return Adapters.parameterShapes(model, config);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(configFile, "target_modules", e.getMessage(), e);
        }
    }

    private static SafetensorsReader openWeights(Path adapterDirectory) throws CheckpointException {
        Path file = adapterDirectory.resolve(WEIGHTS_FILE);
        if (!Files.isRegularFile(file)) {
            throw new CheckpointException(file, null, "does not exist (adapter_model.bin is not supported)");
        }
        return SafetensorsReader.open(file);
    }

    /** Every expected tensor present with its shape, and nothing else. */
    private static void validate(SafetensorsReader reader, Map<String, long[]> shapes) throws CheckpointException {
        for (Map.Entry<String, long[]> entry : shapes.entrySet()) {
            String name = entry.getKey();
            if (!reader.names().contains(name)) {
                throw new CheckpointException(
                        reader.file(),
                        name,
                        "missing: the adapter config and the model need " + shapes.size() + " LoRA tensors");
            }
            long[] actual = reader.info(name).shape();
            if (!Arrays.equals(actual, entry.getValue())) {
                throw new CheckpointException(
                        reader.file(),
                        name,
                        "shape " + Arrays.toString(actual) + " does not match the model's "
                                + Arrays.toString(entry.getValue()));
            }
            if (!reader.info(name).dtype().isFloatWeight()) {
                throw new CheckpointException(
                        reader.file(),
                        name,
                        "dtype " + reader.info(name).dtype() + " is not a weight type (F32, F16, BF16)");
            }
        }
        Set<String> unexpected = new TreeSet<>(reader.names());
        unexpected.removeAll(shapes.keySet());
        if (!unexpected.isEmpty()) {
            throw new CheckpointException(
                    reader.file(),
                    unexpected.iterator().next(),
                    "is not a LoRA tensor of this model and adapter config (" + unexpected.size()
                            + " unexpected tensors)");
        }
    }

    private static void copyWeights(SafetensorsReader reader, Adapters adapters) throws CheckpointException {
        for (Map.Entry<String, Parameter> entry : adapters.trainableParameters().entrySet()) {
            entry.getValue().array().set(reader.readFloats(entry.getKey()));
        }
    }
}
