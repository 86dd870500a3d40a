package dev.finetune.llm.train;

import dev.finetune.llm.lora.Adapters;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.model.GradientMode;
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
 * each checkpoint, so a resumed run uses the same. The validation items evaluated during training
 * (DPO) are scored by the same reference, once: precomputed and checkpointed with the training items
 * for full fine-tuning, or scored with the adapters off at the first evaluation and kept.
 */
final class ReferenceModel {
    /** The reference log-probabilities in a full fine-tuning checkpoint. */
    static final String FILE = "reference_logps.safetensors";
    /** The prefix of the validation items' scores in {@link #FILE}. */
    private static final String VALIDATION = "validation/";

    private final TrainableModel model;
    private final List<PreferencePair> items;
    private final long padId;
    private final List<PreferencePair> validation;
    private final int evalBatchSize;
    private PreferenceScores precomputed;
    /** The reference's scores of the validation items: computed once (or restored), they never change. */
    private PreferenceScores validationScores;

    ReferenceModel(TrainableModel model, List<PreferencePair> items, long padId) {
        this(model, items, padId, List.of(), 1);
    }

    /**
     * @param validation the items evaluated during training, scored by the same reference
     * @param evalBatchSize validation items per forward pass
     */
    ReferenceModel(
            TrainableModel model,
            List<PreferencePair> items,
            long padId,
            List<PreferencePair> validation,
            int evalBatchSize) {
        this.model = model;
        this.items = items;
        this.padId = padId;
        this.validation = validation;
        this.evalBatchSize = evalBatchSize;
    }

    /**
     * With full fine-tuning, scores every item with the model as it is now (its initial weights), in
     * batches of {@code batchSize}, unless a checkpoint restored the scores already. With adapters
     * there is nothing to do: the reference is the model with its adapters off. The validation items
     * are scored too, in batches of eval batch size.
     */
    @SuppressWarnings("try")
    void precompute(int batchSize) {
        if (model.adapters().isEmpty() && precomputed == null) {
            try (GradientMode.Paused paused = GradientMode.pause()) {
                precomputed = PreferenceScores.of(model.model(), items, batchSize, padId);
                if (!validation.isEmpty()) {
                    validationScores = PreferenceScores.of(model.model(), validation, evalBatchSize, padId);
                }
            }
        }
    }

    /**
     * The reference scores of the validation items: precomputed or restored (full fine-tuning), else
     * {@code lm} with its adapters off, scored at the first call and kept (the reference never changes).
     */
    @SuppressWarnings("try")
    PreferenceScores validationScores(CausalLm lm) {
        if (validationScores == null) {
            try (GradientMode.Paused paused = GradientMode.pause();
                    Adapters.Switch off = model.reference()) {
                validationScores = PreferenceScores.of(lm, validation, evalBatchSize, padId);
            }
        }
        return validationScores;
    }

    /** Writes the precomputed scores into a checkpoint directory (full fine-tuning only). */
    List<String> save(Path directory) throws IOException {
        if (precomputed == null || model.adapters().isPresent()) {
            return List.of();
        }
        Map<String, float[]> vectors = new LinkedHashMap<>();
        vectors.put("chosen", precomputed.chosen());
        vectors.put("rejected", precomputed.rejected());
        if (validationScores != null) {
            vectors.put(VALIDATION + "chosen", validationScores.chosen());
            vectors.put(VALIDATION + "rejected", validationScores.rejected());
        }
        TensorFiles.writeVectors(directory.resolve(FILE), vectors);
        return List.of(FILE);
    }

    void restore(Path directory) throws IOException {
        if (model.adapters().isEmpty()) {
            Map<String, float[]> saved = TensorFiles.read(directory.resolve(FILE));
            precomputed = new PreferenceScores(saved.get("chosen"), saved.get("rejected"));
            if (saved.containsKey(VALIDATION + "chosen")) {
                validationScores =
                        new PreferenceScores(saved.get(VALIDATION + "chosen"), saved.get(VALIDATION + "rejected"));
            }
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
