package dev.finetune.llm.objective;

import java.util.Arrays;

/**
 * One row of training tokens: ids, their position ids, and which tokens are trained on. {@code
 * targets[t]} means the model is taught to predict token t from the tokens before it (its loss
 * counts); the first token of an example is never a target, since it has no context. A row holds
 * one example (positions 0..n-1) or, packed, several (positions restart at 0 for each).
 */
public record TrainingSequence(long[] ids, long[] positions, boolean[] targets) {
    public TrainingSequence {
        if (ids.length == 0) {
            throw new IllegalArgumentException("a training sequence needs at least one token");
        }
        if (positions.length != ids.length || targets.length != ids.length) {
            throw new IllegalArgumentException(ids.length + " ids, " + positions.length + " positions and "
                    + targets.length + " targets: they must be equally long");
        }
        for (int t = 0; t < ids.length; t++) {
            if (targets[t] && positions[t] == 0) {
                throw new IllegalArgumentException(
                        "token " + t + " starts an example (position 0) and cannot be a target");
            }
        }
    }

    /** A single example: positions 0..n-1. */
    public static TrainingSequence of(long[] ids, boolean[] targets) {
        long[] positions = new long[ids.length];
        Arrays.setAll(positions, t -> t);
        return new TrainingSequence(ids, positions, targets);
    }

    public int length() {
        return ids.length;
    }

    /** Number of tokens the loss counts. */
    public int targetCount() {
        int count = 0;
        for (boolean target : targets) {
            count += target ? 1 : 0;
        }
        return count;
    }

    /** The first {@code length} tokens (truncation keeps the start, as TRL's default). */
    public TrainingSequence truncate(int length) {
        if (length >= ids.length) {
            return this;
        }
        return new TrainingSequence(
                Arrays.copyOf(ids, length), Arrays.copyOf(positions, length), Arrays.copyOf(targets, length));
    }
}
