package dev.finetune.llm.inference;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import dev.finetune.llm.checkpoint.CheckpointException;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.model.GradientMode;
import dev.finetune.llm.objective.LastTokens;
import dev.finetune.llm.peft.PeftAdapter;
import dev.finetune.llm.tokenizer.SpecialToken;
import dev.finetune.llm.tokenizer.Tokenizer;
import dev.finetune.llm.tokenizer.TokenizerException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * A trained reward model, for scoring sequences (RL rewards, evaluation): a {@link CausalLm} with a
 * {@code score} head, read as transformers' {@code AutoModelForSequenceClassification} with {@code
 * num_labels=1} reads it. Each sequence is scored at its last token that is not the pad id ({@link
 * LastTokens}), so a sequence that itself ends with the pad id is read where HF reads it.
 *
 * <p>Dimension letters: B sequences of a batch, T time.
 */
public final class RewardModel implements AutoCloseable {
    /** Sequences per forward pass unless asked otherwise: transformers' per_device_eval_batch_size. */
    public static final int DEFAULT_BATCH_SIZE = 8;

    private final CausalLm model;
    private final long padId;

    private RewardModel(CausalLm model, long padId) {
        this.model = model;
        this.padId = padId;
    }

    /**
     * Scores with a reward model in memory (e.g. the one being trained), which this object then owns:
     * {@link #close} closes it.
     *
     * @param padId the pad id it was trained with (its config's pad_token_id after {@link
     *     CausalLm#attachScoreHead})
     * @throws IllegalArgumentException for a language model (no score head)
     */
    public static RewardModel of(CausalLm model, long padId) {
        if (!model.hasScoreHead()) {
            throw new IllegalArgumentException(
                    "the model has no score head: it is a language model, not a reward model");
        }
        return new RewardModel(model, padId);
    }

    /**
     * Loads a reward model saved in HuggingFace's sequence-classification layout (config.json, weights
     * {@code model.*} and {@code score.weight}); its config's {@code pad_token_id} is the pad id.
     *
     * @throws CheckpointException if the directory cannot be loaded, holds a language model (no {@code
     *     score.weight}) or its config has no pad_token_id
     */
    public static RewardModel load(Path directory) throws CheckpointException {
        CausalLm model = CausalLm.load(directory);
        try {
            if (!model.hasScoreHead()) {
                throw new CheckpointException(
                        directory,
                        "score.weight",
                        "missing: a language model, not a reward model (sequence classifier)");
            }
            if (model.config().padTokenId() == null) {
                throw new CheckpointException(
                        directory.resolve("config.json"),
                        "pad_token_id",
                        "missing: a reward model reads each sequence at its last token that is not pad_token_id");
            }
            return new RewardModel(model, model.config().padTokenId());
        } catch (CheckpointException | RuntimeException e) {
            model.close();
            throw e;
        }
    }

    /**
     * Loads {@code baseModel} (a language model) with a reward model's PEFT adapter (task_type SEQ_CLS,
     * its score head in modules_to_save): the LM head gives way to the score head the adapter holds. The
     * pad id is the base's tokenizer's pad token, else its config's pad_token_id, else 0: what training
     * padded with.
     *
     * @throws CheckpointException naming the file and the key or tensor that does not fit
     */
    public static RewardModel load(Path baseModel, Path adapterDirectory)
            throws CheckpointException, TokenizerException {
        long padId;
        try (Tokenizer tokenizer = Tokenizer.load(baseModel)) {
            padId = tokenizer
                    .specialTokens()
                    .pad()
                    .map(SpecialToken::id)
                    .map(Integer::longValue)
                    .orElse(-1L);
        }
        CausalLm model = CausalLm.load(baseModel);
        try {
            if (padId < 0) {
                padId = model.config().padTokenId() == null ? 0 : model.config().padTokenId();
            }
            model.attachScoreHead(padId, 0); // its values come from the adapter
            PeftAdapter.load(model, adapterDirectory);
            return new RewardModel(model, padId);
        } catch (CheckpointException | RuntimeException e) {
            model.close();
            throw e;
        }
    }

    /** The score of each sequence (token ids, no padding), {@link #DEFAULT_BATCH_SIZE} per forward pass. */
    public double[] scores(List<long[]> sequences) {
        return scores(sequences, DEFAULT_BATCH_SIZE);
    }

    /**
     * The score of each sequence (token ids, no padding), in batches of {@code batchSize} right-padded
     * with the pad id, without gradients; each batch's arrays are freed when it is done.
     */
    @SuppressWarnings("try")
    public double[] scores(List<long[]> sequences, int batchSize) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batchSize must be at least 1, got " + batchSize);
        }
        double[] scores = new double[sequences.size()];
        try (GradientMode.Paused paused = GradientMode.pause()) {
            for (int start = 0; start < sequences.size(); start += batchSize) {
                List<long[]> batch = sequences.subList(start, Math.min(sequences.size(), start + batchSize));
                for (int row = 0; row < batch.size(); row++) {
                    if (batch.get(row).length == 0) {
                        throw new IllegalArgumentException("sequence " + (start + row) + " is empty: nothing to score");
                    }
                }
                int time = batch.stream().mapToInt(s -> s.length).max().orElseThrow();
                long[][] ids = new long[batch.size()][time];
                long[][] mask = new long[batch.size()][time];
                for (int row = 0; row < ids.length; row++) {
                    long[] sequence = batch.get(row);
                    Arrays.fill(ids[row], padId);
                    System.arraycopy(sequence, 0, ids[row], 0, sequence.length);
                    Arrays.fill(mask[row], 0, sequence.length, 1L);
                }
                try (NDScope ignored = new NDScope()) {
                    NDManager manager = model.manager();
                    NDArray hidden = model.body().forward(manager.create(ids), manager.create(mask), null); // [B, T, C]
                    float[] batchScores = model.scores(hidden, manager.create(LastTokens.oneHot(ids, padId)))
                            .toFloatArray(); // [B]
                    for (int row = 0; row < batchScores.length; row++) {
                        scores[start + row] = batchScores[row];
                    }
                }
            }
        }
        return scores;
    }

    /** The id that pads batches and marks where each sequence is read. */
    public long padId() {
        return padId;
    }

    public CausalLm model() {
        return model;
    }

    @Override
    public void close() {
        model.close();
    }
}
