package dev.finetune.llm.bench;

import dev.finetune.llm.checkpoint.CheckpointException;
import dev.finetune.llm.checkpoint.ModelConfig;
import dev.finetune.llm.checkpoint.ModelConfigJson;
import dev.finetune.llm.checkpoint.ModelType;
import dev.finetune.llm.checkpoint.RopeConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * A model shape for {@code llm bench-train --shape}: the sizes of a published checkpoint, filled with
 * random weights, so memory and step time are those of the real model without downloading it.
 *
 * @param name how results name it: the preset's name, or the config file's path
 */
public record ModelShape(String name, ModelConfig config) {
    /** Qwen3-0.6B: hidden 1024, 28 layers, 16 query / 8 key-value heads of dim 128, MLP 3072, tied. */
    public static final ModelShape QWEN3_0_6B = qwen3("qwen3-0.6b", 1024, 3072);
    /** Qwen3-1.7B: hidden 2048, 28 layers, 16 / 8 heads of dim 128, MLP 6144, tied. */
    public static final ModelShape QWEN3_1_7B = qwen3("qwen3-1.7b", 2048, 6144);

    private static final List<ModelShape> PRESETS = List.of(QWEN3_0_6B, QWEN3_1_7B);

    /**
     * A preset by name, or the shape in a HuggingFace {@code config.json} (any path ending in {@code
     * .json}), so a team can measure its own model's shape.
     */
    public static ModelShape resolve(String nameOrConfigFile) {
        String wanted = nameOrConfigFile.strip();
        for (ModelShape preset : PRESETS) {
            if (preset.name.equals(wanted.toLowerCase(Locale.ROOT))) {
                return preset;
            }
        }
        Path file = Path.of(wanted);
        if (wanted.endsWith(".json") && Files.isRegularFile(file)) {
            try {
                return new ModelShape(wanted, ModelConfigJson.read(file));
            } catch (CheckpointException e) {
                throw new IllegalArgumentException("--shape " + wanted + ": " + e.getMessage(), e);
            }
        }
        throw new IllegalArgumentException("--shape must be qwen3-0.6b, qwen3-1.7b or the path of a model's"
                + " config.json, got \"" + nameOrConfigFile + "\"");
    }

    /** Qwen3's published configuration at one size: vocabulary 151,936, rope theta 1e6, qk-norm. */
    private static ModelShape qwen3(String name, int hidden, int mlp) {
        return new ModelShape(
                name,
                ModelConfig.builder(ModelType.QWEN3)
                        .vocabSize(151_936)
                        .hiddenSize(hidden)
                        .intermediateSize(mlp)
                        .numHiddenLayers(28)
                        .numAttentionHeads(16)
                        .numKeyValueHeads(8)
                        .headDim(128)
                        .rope(RopeConfig.plain(1_000_000.0))
                        .maxPositionEmbeddings(40_960)
                        .tieWordEmbeddings(true)
                        .bosTokenId(151_643)
                        .eosTokenIds(List.of(151_645))
                        .padTokenId(151_643)
                        .build());
    }
}
