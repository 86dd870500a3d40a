package dev.finetune.llm.model;

import ai.djl.ndarray.NDArray;
import dev.finetune.llm.checkpoint.CheckpointException;
import dev.finetune.llm.checkpoint.DType;
import dev.finetune.llm.checkpoint.ModelConfigJson;
import dev.finetune.llm.checkpoint.SafetensorsWriter;
import dev.finetune.llm.checkpoint.ShardedSafetensors;
import dev.finetune.llm.checkpoint.TensorInfo;
import dev.finetune.llm.checkpoint.TensorSource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/** Moves weights between a {@link CausalLm} and safetensors, by parameter path = tensor name. */
final class ModelWeights {
    private ModelWeights() {}

    /** The prefix of the decoder layers' module paths: their linears are stored as the caller chooses. */
    static final String LAYERS_PREFIX = "model.layers.";

    /**
     * Reads every parameter from {@code tensors}, tensor by tensor; the decoder layers' linears and the
     * token embedding go through {@code storage} (which may quantise each one as it is read). Every tensor's presence,
     * dtype and shape are checked before the first one is read, so a checkpoint that cannot be loaded
     * fails at once, naming the tensor, not after minutes of quantising.
     */
    static void load(CausalLm model, TensorSource tensors, LinearStorage storage) throws CheckpointException {
        checkParameters(model, tensors);
        Set<String> unexpected = new TreeSet<>(tensors.names());
        for (LinearSite site : decoderLinears(model)) {
            Module layer = storage.load(tensors, site.path(), site.shape(), site.withBias(), model.manager());
            site.parent().replaceChild(site.name(), layer);
            unexpected.remove(site.path() + ".weight");
            unexpected.remove(site.path() + ".bias");
        }
        String embeddingPath = "model." + DecoderModel.EMBED_TOKENS;
        long[] embeddingShape = {model.config().vocabSize(), model.config().hiddenSize()};
        Optional<Module> embedding = storage.frozenEmbedding(tensors, embeddingPath, embeddingShape, model.manager());
        if (embedding.isPresent()) {
            model.body().replaceChild(DecoderModel.EMBED_TOKENS, embedding.get());
            unexpected.remove(embeddingPath + ".weight");
        }
        for (Map.Entry<String, Parameter> entry : model.namedParameters().entrySet()) {
            Parameter parameter = entry.getValue();
            if (!parameter.isSet()) {
                parameter.set(tensors.read(entry.getKey(), parameter.shape().getShape(), model.manager()));
            }
            unexpected.remove(entry.getKey());
        }
        refuseUnexpected(model, unexpected, tensors);
    }

    /**
     * What {@link #load} checks before it reads anything, for a model whose parameters are unset:
     * every parameter has its tensor (dtype, shape) and every tensor is a parameter.
     */
    static void verify(CausalLm skeleton, TensorSource tensors) throws CheckpointException {
        checkParameters(skeleton, tensors);
        Set<String> unexpected = new TreeSet<>(tensors.names());
        unexpected.removeAll(skeleton.namedParameters().keySet());
        refuseUnexpected(skeleton, unexpected, tensors);
    }

    private static void checkParameters(CausalLm model, TensorSource tensors) throws CheckpointException {
        for (Map.Entry<String, Parameter> entry : model.namedParameters().entrySet()) {
            check(tensors, entry.getKey(), entry.getValue().shape().getShape());
        }
    }

    private static void refuseUnexpected(CausalLm model, Set<String> unexpected, TensorSource tensors)
            throws CheckpointException {
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

    /** The tensor exists, holds floats the engine can store, and has the parameter's shape. */
    private static void check(TensorSource tensors, String name, long[] shape) throws CheckpointException {
        TensorInfo info = tensors.info(name); // throws, naming the file(s) searched
        if (!info.dtype().isFloatWeight()) {
            throw new CheckpointException(
                    tensors.fileOf(name),
                    name,
                    "dtype " + info.dtype() + " cannot be stored by the engine: weights must be F32, F16 or BF16"
                            + " (quantised checkpoints are not read; load the 16- or 32-bit weights and choose"
                            + " base_dtype int8 or nf4)");
        }
        if (!Arrays.equals(info.shape(), shape)) {
            throw new CheckpointException(
                    tensors.fileOf(name),
                    name,
                    "shape " + Arrays.toString(info.shape()) + " does not match the expected shape "
                            + Arrays.toString(shape));
        }
    }

    /** A fp32 linear of a decoder layer: where it hangs in the tree and what it holds. */
    private record LinearSite(String path, Module parent, String name, long[] shape, boolean withBias) {}

    private static List<LinearSite> decoderLinears(CausalLm model) {
        List<LinearSite> sites = new ArrayList<>();
        collectLinears(model, "", sites);
        return sites;
    }

    private static void collectLinears(Module module, String prefix, List<LinearSite> into) {
        for (Map.Entry<String, Module> entry : module.children().entrySet()) {
            String path = prefix + entry.getKey();
            if (entry.getValue() instanceof Linear linear) {
                if (path.startsWith(LAYERS_PREFIX)) {
                    into.add(new LinearSite(
                            path,
                            module,
                            entry.getKey(),
                            linear.weight().shape().getShape(),
                            linear.namedParameters().containsKey("bias")));
                }
            } else {
                collectLinears(entry.getValue(), path + ".", into);
            }
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
        model.writeConfig(directory.resolve(ModelConfigJson.FILE_NAME), torchDtype);
    }
}
