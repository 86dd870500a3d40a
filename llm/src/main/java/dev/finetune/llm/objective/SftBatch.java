package dev.finetune.llm.objective;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.model.TrainingPass;
import java.util.Arrays;
import java.util.List;

/**
 * Training sequences right-padded to one [B, T] block, with what the loss needs: which next-token
 * predictions count ({@code lossMask} [B, T-1], 1 where token t+1 is a target). Rows that hold
 * packed examples are run with their position ids (padding gets position 0: each padding token is
 * an example of its own that nothing attends to); plain rows with HuggingFace's padding mask.
 *
 * <p>Dimension letters: B batch, T time, V vocabulary.
 */
public record SftBatch(long[][] ids, long[][] positions, long[][] paddingMask, float[][] lossMask, boolean packed) {

    /** Pads {@code sequences} with {@code padId}; {@code packed} says whether rows hold several examples. */
    public static SftBatch of(List<TrainingSequence> sequences, long padId, boolean packed) {
        if (sequences.isEmpty()) {
            throw new IllegalArgumentException("a batch needs at least one sequence");
        }
        int length = Math.max(
                2, sequences.stream().mapToInt(TrainingSequence::length).max().orElseThrow());
        int rows = sequences.size();
        long[][] ids = new long[rows][length];
        long[][] positions = new long[rows][length];
        long[][] mask = new long[rows][length];
        float[][] lossMask = new float[rows][length - 1];
        for (int b = 0; b < rows; b++) {
            TrainingSequence sequence = sequences.get(b);
            Arrays.fill(ids[b], padId);
            System.arraycopy(sequence.ids(), 0, ids[b], 0, sequence.length());
            System.arraycopy(sequence.positions(), 0, positions[b], 0, sequence.length());
            Arrays.fill(mask[b], 0, sequence.length(), 1L);
            for (int t = 1; t < sequence.length(); t++) {
                lossMask[b][t - 1] = sequence.targets()[t] ? 1f : 0f;
            }
        }
        return new SftBatch(ids, positions, mask, lossMask, packed);
    }

    public int size() {
        return ids.length;
    }

    /** Real (non-padding) tokens. */
    public int tokenCount() {
        return Arrays.stream(paddingMask)
                .mapToInt(row -> (int) Arrays.stream(row).sum())
                .sum();
    }

    /** Tokens the loss counts. */
    public int targetCount() {
        int count = 0;
        for (float[] row : lossMask) {
            for (float value : row) {
                count += value > 0 ? 1 : 0;
            }
        }
        return count;
    }

    /**
     * Logits [B, T, V] of the batch. The input arrays are created in {@code manager}: keep it open
     * until the backward pass is done (autograd reads them).
     */
    public NDArray logits(CausalLm model, NDManager manager) {
        NDArray inputIds = manager.create(ids); // [B, T]
        if (packed) {
            return model.forwardPacked(inputIds, manager.create(positions)); // [B, T, V]
        }
        return model.forward(inputIds, manager.create(paddingMask), null); // [B, T, V]
    }

    /**
     * The training forward pass of the batch up to the final hidden states (see {@link
     * CausalLm#trainingForward}), with its input ids [B, T] created in {@code manager}.
     */
    public TrainingPass trainingForward(CausalLm model, NDArray inputIds, NDManager manager) {
        if (packed) {
            return model.trainingForwardPacked(inputIds, manager.create(positions));
        }
        return model.trainingForward(inputIds, manager.create(paddingMask));
    }
}
