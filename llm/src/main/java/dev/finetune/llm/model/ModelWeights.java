package dev.finetune.llm.model;

import ai.djl.ndarray.NDArray;
import dev.finetune.llm.checkpoint.CheckpointException;
import dev.finetune.llm.checkpoint.DType;
import dev.finetune.llm.checkpoint.ModelConfigJson;
import dev.finetune.llm.checkpoint.SafetensorsWriter;
import dev.finetune.llm.checkpoint.ShardedSafetensors;
import dev.finetune.llm.checkpoint.TensorSource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/** Moves weights between a {@link CausalLm} and safetensors, by parameter path = tensor name. */
final class ModelWeights {
    private ModelWeights() {}

    static void load(CausalLm model, TensorSource tensors) throws CheckpointException {
        Map<String, Parameter> parameters = model.namedParameters();
        Set<String> unexpected = new TreeSet<>(tensors.names());
        for (Map.Entry<String, Parameter> entry : parameters.entrySet()) {
            String name = entry.getKey();
            Parameter parameter = entry.getValue();
            if (!tensors.names().contains(name)) {
                tensors.info(name); // throws, naming the file(s) searched
            }
            parameter.set(tensors.read(name, parameter.shape().getShape(), model.manager()));
            unexpected.remove(name);
        }
        unexpected.removeIf(name -> isIgnorable(name, model));
        if (!unexpected.isEmpty()) {
            String first = unexpected.iterator().next();
            throw new CheckpointException(
                    tensors.fileOf(first),
                    first,
                    "is not a parameter of a " + model.config().modelType().hfName() + " model with this config ("
                            + unexpected.size() + " unexpected tensors: " + preview(unexpected) + ")");
        }
    }

    /**
     * Tensors a checkpoint may carry that the model legitimately has no parameter for: old
     * checkpoints saved rotary inv_freq buffers, and some tied checkpoints still store lm_head.
     */
    private static boolean isIgnorable(String name, CausalLm model) {
        return name.endsWith(".rotary_emb.inv_freq")
                || (model.config().tieWordEmbeddings() && name.equals("lm_head.weight"));
    }

    private static String preview(Set<String> names) {
        List<String> first = new ArrayList<>(names).subList(0, Math.min(5, names.size()));
        return String.join(", ", first) + (names.size() > 5 ? ", ..." : "");
    }

    static void save(CausalLm model, Path directory, DType dtype, long maxShardBytes) throws IOException {
        Files.createDirectories(directory);
        List<SafetensorsWriter.Entry> entries = new ArrayList<>();
        for (Map.Entry<String, Parameter> entry : model.namedParameters().entrySet()) {
            NDArray array = entry.getValue().array();
            entries.add(
                    SafetensorsWriter.floats(entry.getKey(), array.getShape().getShape(), array.toFloatArray(), dtype));
        }
        ShardedSafetensors.write(directory, entries, maxShardBytes, Map.of("format", "pt"));
        String torchDtype =
                switch (dtype) {
                    case BF16 -> "bfloat16";
                    case F16 -> "float16";
                    default -> "float32";
                };
        ModelConfigJson.write(model.config(), torchDtype, directory.resolve(ModelConfigJson.FILE_NAME));
    }
}
