package dev.finetune.llm.train;

import dev.finetune.llm.lora.Adapters;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.model.GradientMode;
import dev.finetune.llm.objective.PreferencePair;
import dev.finetune.llm.objective.PreferenceScores;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The reference model of the objectives that have one (DPO, KTO): the policy's own starting point,
 * scoring the completion of both rows of each item ({@link PreferenceScores}). With LoRA and QLoRA it
 * is the same model with its adapters switched off, scored on each micro-batch before the policy's
 * forward pass, unless the job sets precompute_ref_log_probs (TRL's). With full fine-tuning, whose
 * initial weights are gone once training starts, or when asked, every item is scored once before step
 * 1 ({@link #precompute}) and the scores are stored in each checkpoint ({@link #FILE}), so a resumed run
 * uses the same and scores nothing. The validation items evaluated during training are scored by the
 * same reference, once: precomputed and stored with the training items, or scored with the adapters off
 * at the first evaluation and kept.
 *
 * <p>The stored file's header names the number of training and validation items and a SHA-256 of their
 * tokens: a checkpoint's scores of other data are refused rather than used.
 */
final class ReferenceModel {
    /** The stored reference log-probabilities in a checkpoint. */
    static final String FILE = "reference_logps.safetensors";
    /** The prefix of the validation items' scores in {@link #FILE}. */
    private static final String VALIDATION = "validation/";
    /** Header keys of {@link #FILE}: what the scores were computed from. */
    private static final String ITEMS = "items";

    private static final String VALIDATION_ITEMS = "validation_items";
    private static final String DATA = "data_sha256";

    private final TrainableModel model;
    private final List<PreferencePair> items;
    private final long padId;
    private final List<PreferencePair> validation;
    private final int evalBatchSize;
    private PreferenceScores precomputed;
    /** The reference's scores of the validation items: computed once (or restored), they never change. */
    private PreferenceScores validationScores;
    /** Reference forward passes of this run (batches scored), for tests that a resumed run scores nothing. */
    private int forwardPasses;

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
     * Scores every item once with the reference, in batches of {@code batchSize}, unless a checkpoint
     * restored the scores already: always with full fine-tuning (the model as it is now, its initial
     * weights), with adapters (switched off) when {@code precomputeWithAdapters}. The validation items
     * are scored too, in batches of eval batch size. Without gradients; each batch in its own NDScope.
     *
     * @param precomputeWithAdapters precompute_ref_log_probs: with LoRA or QLoRA, score now instead of on
     *     each micro-batch
     */
    @SuppressWarnings("try")
    void precompute(int batchSize, boolean precomputeWithAdapters) {
        boolean adapters = model.adapters().isPresent();
        if (precomputed != null || (adapters && !precomputeWithAdapters)) {
            return;
        }
        try (GradientMode.Paused paused = GradientMode.pause();
                Adapters.Switch off = adapters ? model.reference() : () -> {}) {
            precomputed = score(items, batchSize);
            if (!validation.isEmpty()) {
                validationScores = score(validation, evalBatchSize);
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
                forwardPasses += batches(validation.size(), evalBatchSize);
                validationScores = PreferenceScores.of(lm, validation, evalBatchSize, padId);
            }
        }
        return validationScores;
    }

    /**
     * The policy's scores of the same validation items ({@code lm} as it is now, adapters on), without
     * gradients: what an evaluation compares with {@link #validationScores}.
     */
    @SuppressWarnings("try")
    PreferenceScores policyValidationScores(CausalLm lm) {
        try (GradientMode.Paused paused = GradientMode.pause()) {
            return PreferenceScores.of(lm, validation, evalBatchSize, padId);
        }
    }

    /** Writes the precomputed scores into a checkpoint directory, if there are any. */
    List<String> save(Path directory) throws IOException {
        if (precomputed == null) {
            return List.of();
        }
        Map<String, float[]> vectors = new LinkedHashMap<>();
        vectors.put("chosen", precomputed.chosen());
        vectors.put("rejected", precomputed.rejected());
        if (validationScores != null) {
            vectors.put(VALIDATION + "chosen", validationScores.chosen());
            vectors.put(VALIDATION + "rejected", validationScores.rejected());
        }
        TensorFiles.writeVectors(directory.resolve(FILE), vectors, origin());
        return List.of(FILE);
    }

    /**
     * Reads the scores a checkpoint stored: always with full fine-tuning (a checkpoint without them is
     * an error), with adapters when the checkpoint has them (the run precomputed them).
     *
     * @throws TrainConfigException if they were computed from other training or validation items
     */
    void restore(Path directory) throws IOException {
        Path file = directory.resolve(FILE);
        if (model.adapters().isPresent() && !Files.exists(file)) {
            return;
        }
        Map<String, String> stored = TensorFiles.metadata(file);
        Map<String, String> expected = origin();
        if (stored.containsKey(DATA) && !expected.equals(stored)) {
            throw new TrainConfigException(file + " holds reference log-probabilities of other data (" + stored
                    + "), this job's is " + expected + ": the training or validation data changed since the"
                    + " checkpoint; use another output_dir or set resume: false");
        }
        Map<String, float[]> saved = TensorFiles.read(file);
        if (saved.get("chosen").length != items.size()) {
            throw new TrainConfigException(file + " holds reference log-probabilities of "
                    + saved.get("chosen").length + " items, this job has " + items.size()
                    + "; use another output_dir or set resume: false");
        }
        precomputed = new PreferenceScores(saved.get("chosen"), saved.get("rejected"));
        if (saved.containsKey(VALIDATION + "chosen")) {
            validationScores =
                    new PreferenceScores(saved.get(VALIDATION + "chosen"), saved.get(VALIDATION + "rejected"));
        }
    }

    /** What the scores are computed from: the item counts and a SHA-256 of every item's tokens. */
    private Map<String, String> origin() {
        DataFingerprint fingerprint = new DataFingerprint();
        for (List<PreferencePair> split : List.of(items, validation)) {
            fingerprint.add(new long[] {split.size()});
            for (PreferencePair pair : split) {
                fingerprint.add(pair.prompt()).add(pair.chosen()).add(pair.rejected());
            }
        }
        Map<String, String> origin = new TreeMap<>();
        origin.put(ITEMS, Integer.toString(items.size()));
        origin.put(VALIDATION_ITEMS, Integer.toString(validation.size()));
        origin.put(DATA, fingerprint.hex());
        return origin;
    }

    /** The reference scores of a micro-batch, items {@code indices}: precomputed, or the model with adapters off. */
    PreferenceScores scores(int[] indices, List<PreferencePair> slice) {
        if (precomputed != null) {
            return precomputed.select(indices);
        }
        try (Adapters.Switch off = model.reference()) {
            forwardPasses++;
            return PreferenceScores.of(model.model(), slice, slice.size(), padId);
        }
    }

    /** Reference forward passes so far (batches scored, precomputed or per micro-batch). */
    int forwardPasses() {
        return forwardPasses;
    }

    private PreferenceScores score(List<PreferencePair> split, int batchSize) {
        forwardPasses += batches(split.size(), batchSize);
        return PreferenceScores.of(model.model(), split, batchSize, padId);
    }

    private static int batches(int count, int batchSize) {
        return (count + batchSize - 1) / batchSize;
    }
}
