package dev.finetune.llm.train;

import dev.finetune.llm.lora.Adapters;
import dev.finetune.llm.objective.PreferencePair;
import dev.finetune.llm.objective.PreferenceScores;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The reference model of the objectives that have one (DPO, KTO): the policy's own starting point,
 * scoring the completion of both rows of each item ({@link PreferenceScores}). With LoRA and QLoRA it
 * is the same model with its adapters switched off, scored on each micro-batch before the policy's
 * forward pass; with full fine-tuning, whose initial weights are gone once training starts, every
 * item is scored once from the initial weights ({@link #precompute}) and the scores are stored in
 * each checkpoint, so a resumed run uses the same.
 */
final class ReferenceModel {
    /** The reference log-probabilities in a full fine-tuning checkpoint. */
    static final String FILE = "reference_logps.safetensors";

    private final TrainableModel model;
    private final List<PreferencePair> items;
    private final long padId;
    private PreferenceScores precomputed;

    ReferenceModel(TrainableModel model, List<PreferencePair> items, long padId) {
        this.model = model;
        this.items = items;
        this.padId = padId;
    }

    /**
     * With full fine-tuning, scores every item with the model as it is now (its initial weights), in
     * batches of {@code batchSize}, unless a checkpoint restored the scores already. With adapters
     * there is nothing to do: the reference is the model with its adapters off.
     */
    void precompute(int batchSize) {
        if (model.adapters().isEmpty() && precomputed == null) {
            precomputed = PreferenceScores.of(model.model(), items, batchSize, padId);
        }
    }

    /** Writes the precomputed scores into a checkpoint directory (full fine-tuning only). */
    List<String> save(Path directory) throws IOException {
        if (precomputed == null || model.adapters().isPresent()) {
            return List.of();
        }
        Map<String, float[]> vectors = new LinkedHashMap<>();
        vectors.put("chosen", precomputed.chosen());
        vectors.put("rejected", precomputed.rejected());
        TensorFiles.writeVectors(directory.resolve(FILE), vectors);
        return List.of(FILE);
    }

    void restore(Path directory) throws IOException {
        if (model.adapters().isEmpty()) {
            Map<String, float[]> saved = TensorFiles.read(directory.resolve(FILE));
            precomputed = new PreferenceScores(saved.get("chosen"), saved.get("rejected"));
        }
    }

    /** The reference scores of a micro-batch, items {@code indices}: precomputed, or the model with adapters off. */
    PreferenceScores scores(int[] indices, List<PreferencePair> slice) {
        if (precomputed != null) {
            return precomputed.select(indices);
        }
        try (Adapters.Switch off = model.reference()) {
            return PreferenceScores.of(model.model(), slice, slice.size(), padId);
        }
    }
}
