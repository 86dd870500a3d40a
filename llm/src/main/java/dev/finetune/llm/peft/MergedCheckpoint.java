package dev.finetune.llm.peft;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import dev.finetune.llm.checkpoint.DType;
import dev.finetune.llm.checkpoint.ModelConfigJson;
import dev.finetune.llm.checkpoint.SafetensorsWriter;
import dev.finetune.llm.checkpoint.ShardedSafetensors;
import dev.finetune.llm.lora.BaseLinear;
import dev.finetune.llm.lora.LoraLinear;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.model.LinearLayer;
import dev.finetune.llm.model.Module;
import dev.finetune.llm.model.Parameter;
import dev.finetune.llm.quant.Int8Embedding;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Exports a model with adapters as a plain HuggingFace checkpoint, each adapted linear merged:
 * {@code W' = W + B A * scaling}, with DoRA each row of that times {@code m / ||W + B A * scaling||}
 * (PEFT's {@code merge_and_unload} followed by {@code
 * save_pretrained}). Tensor names are the base model's ({@code ...q_proj.weight}: no {@code
 * base_layer}, no {@code lora_*}); quantised bases (and a quantised base's int8 embedding) are
 * written dequantised. The model itself is not
 * changed, so training or serving with adapters can go on. This needs the model in memory; to merge
 * a saved adapter into a base checkpoint of any size, see {@link StreamedMerge}.
 */
public final class MergedCheckpoint {
    /**
     * Files beside the weights that belong to the model and are copied as they are: the tokenizer,
     * its chat template and the generation defaults.
     */
    public static final List<String> COMPANION_FILES = List.of(
            "tokenizer.json",
            "tokenizer_config.json",
            "special_tokens_map.json",
            "added_tokens.json",
            "tokenizer.model",
            "vocab.json",
            "merges.txt",
            "chat_template.jinja",
            "chat_template.json",
            "generation_config.json");

    private MergedCheckpoint() {}

    /**
     * Writes config.json and the merged weights ({@code dtype} F32, F16 or BF16; sharded above
     * {@code maxShardBytes}) into {@code directory}, and copies the {@link #COMPANION_FILES} that
     * exist in {@code baseModelDirectory} (null: none).
     */
    @SuppressWarnings("try")
    public static void write(CausalLm model, Path directory, DType dtype, long maxShardBytes, Path baseModelDirectory)
            throws IOException {
        Files.createDirectories(directory);
        List<SafetensorsWriter.Entry> entries = new ArrayList<>();
        try (NDScope ignored = new NDScope()) {
            collect(model, "", dtype, entries);
        }
        ShardedSafetensors.write(directory, entries, maxShardBytes, Map.of("format", "pt"));
        model.writeConfig(directory.resolve(ModelConfigJson.FILE_NAME), torchDtype(dtype));
        if (baseModelDirectory != null) {
            for (String name : COMPANION_FILES) {
                Path source = baseModelDirectory.resolve(name);
                if (Files.isRegularFile(source)) {
                    Files.copy(source, directory.resolve(name), StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }

    /** As {@link #write(CausalLm, Path, DType, long, Path)} in one file of fp32 weights. */
    public static void write(CausalLm model, Path directory, Path baseModelDirectory) throws IOException {
        write(model, directory, DType.F32, Long.MAX_VALUE, baseModelDirectory);
    }

    /** Own parameters first, then children, as {@link Module#namedParameters()} orders them. */
    private static void collect(Module module, String prefix, DType dtype, List<SafetensorsWriter.Entry> into) {
        if (module instanceof LoraLinear lora) {
            Module base = (Module) lora.base();
            NDArray merged = lora.mergedWeight(BaseLinear.weight(base)); // [O, I]
            addLinear(prefix, merged, BaseLinear.bias(base), dtype, into);
            return;
        }
        if (module instanceof LinearLayer) {
            addLinear(prefix, BaseLinear.weight(module), BaseLinear.bias(module), dtype, into);
            return;
        }
        if (module instanceof Int8Embedding frozen) { // a quantised base's embedding, written dequantised
            NDArray table = frozen.dequantize(frozen.codesManager()); // [V, C], freed with the caller's scope
            add(prefix + "weight", table, dtype, into);
            return;
        }
        for (Map.Entry<String, Parameter> entry : module.namedParameters().entrySet()) {
            if (!entry.getKey().contains(".")) {
                add(prefix + entry.getKey(), entry.getValue().array(), dtype, into);
            }
        }
        module.children().forEach((name, child) -> collect(child, prefix + name + ".", dtype, into));
    }

    private static void addLinear(
            String prefix, NDArray weight, Parameter bias, DType dtype, List<SafetensorsWriter.Entry> into) {
        add(prefix + "weight", weight, dtype, into);
        if (bias != null) {
            add(prefix + "bias", bias.array(), dtype, into);
        }
    }

    private static void add(String name, NDArray array, DType dtype, List<SafetensorsWriter.Entry> into) {
        into.add(SafetensorsWriter.floats(name, array.getShape().getShape(), array.toFloatArray(), dtype));
    }

    private static String torchDtype(DType dtype) {
        return switch (dtype) {
            case BF16 -> "bfloat16";
            case F16 -> "float16";
            default -> "float32";
        };
    }
}
