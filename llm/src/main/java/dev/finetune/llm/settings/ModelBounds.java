package dev.finetune.llm.settings;

import dev.finetune.llm.checkpoint.ModelConfig;
import dev.finetune.llm.lora.LoraConfig;
import dev.finetune.llm.train.TrainConfig;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The bounds a setting has only once the base model is known: a sequence no longer than the model's
 * positions, a LoRA rank no larger than the smaller side of the layers it adapts. Checked when a job
 * is accepted, so a job that cannot be right is refused before a worker loads anything.
 */
public final class ModelBounds {
    private ModelBounds() {}

    /**
     * Checks {@code job}'s settings against {@code model}.
     *
     * @throws SettingException naming the setting, its value and the model's limit
     */
    public static void check(ModelConfig model, TrainConfig job) {
        int maxSeqLength = job.setting(Settings.MAX_SEQ_LENGTH);
        if (maxSeqLength > model.maxPositionEmbeddings()) {
            throw new SettingException(
                    Settings.MAX_SEQ_LENGTH.name(),
                    Settings.MAX_SEQ_LENGTH.name() + " must be <= the model's max_position_embeddings ("
                            + model.maxPositionEmbeddings() + "), got " + maxSeqLength);
        }
        if (!job.method().usesAdapters()) {
            return;
        }
        int rank = job.setting(Settings.LORA_R);
        Map<String, Integer> smallerSide = smallerSides(model);
        List<String> targets = job.setting(Settings.LORA_TARGET_MODULES);
        for (Map.Entry<String, Integer> linear : smallerSide.entrySet()) {
            boolean adapted = targets.contains(LoraConfig.ALL_LINEAR)
                    || targets.stream().anyMatch(t -> t.equals(linear.getKey()) || t.endsWith("." + linear.getKey()));
            if (adapted && rank > linear.getValue()) {
                throw new SettingException(
                        Settings.LORA_R.name(),
                        Settings.LORA_R.name() + " must be <= min(in, out) of the adapted layers (" + linear.getKey()
                                + ": " + linear.getValue() + "), got " + rank);
            }
        }
    }

    /** The names of the decoder linears of {@code model}'s architecture, what target_modules select from. */
    public static List<String> linearNames(ModelConfig model) {
        return List.copyOf(smallerSides(model).keySet());
    }

    /** min(in_features, out_features) of each kind of decoder linear, by its module name. */
    static Map<String, Integer> smallerSides(ModelConfig c) {
        int headDim = c.headDim() > 0 ? c.headDim() : c.hiddenSize() / c.numAttentionHeads();
        int queries = c.numAttentionHeads() * headDim;
        int keysValues = c.numKeyValueHeads() * headDim;
        Map<String, Integer> sides = new LinkedHashMap<>();
        sides.put("q_proj", Math.min(c.hiddenSize(), queries));
        sides.put("k_proj", Math.min(c.hiddenSize(), keysValues));
        sides.put("v_proj", Math.min(c.hiddenSize(), keysValues));
        sides.put("o_proj", Math.min(queries, c.hiddenSize()));
        sides.put("gate_proj", Math.min(c.hiddenSize(), c.intermediateSize()));
        sides.put("up_proj", Math.min(c.hiddenSize(), c.intermediateSize()));
        sides.put("down_proj", Math.min(c.intermediateSize(), c.hiddenSize()));
        return sides;
    }
}
