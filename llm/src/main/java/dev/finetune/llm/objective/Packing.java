package dev.finetune.llm.objective;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Sequence packing: several short examples share one row of at most {@code capacity} tokens, so
 * batches carry little padding. Rows are filled best-fit decreasing (TRL's {@code bfd} strategy):
 * longest example first, each into the fullest row it still fits. Position ids restart at 0 for
 * each example, which is how {@link dev.finetune.llm.model.CausalLm#forwardPacked} keeps packed
 * examples from attending to each other. Deterministic: the same examples give the same rows.
 */
public final class Packing {
    private Packing() {}

    /**
     * @param sequences single examples, each at most {@code capacity} tokens
     * @param capacity the longest row (max_seq_length)
     */
    public static List<TrainingSequence> pack(List<TrainingSequence> sequences, int capacity) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("max_seq_length must be > 0, got " + capacity);
        }
        List<Integer> order = IntStream.range(0, sequences.size())
                .boxed()
                .sorted(Comparator.comparingInt((Integer i) -> -sequences.get(i).length())
                        .thenComparingInt(i -> i))
                .toList();
        List<List<TrainingSequence>> rows = new ArrayList<>();
        List<Integer> used = new ArrayList<>();
        for (int index : order) {
            TrainingSequence sequence = sequences.get(index);
            if (sequence.length() > capacity) {
                throw new IllegalArgumentException("example " + index + " has " + sequence.length()
                        + " tokens, more than max_seq_length " + capacity + ": truncate before packing");
            }
            int best = -1;
            for (int row = 0; row < rows.size(); row++) {
                boolean fits = used.get(row) + sequence.length() <= capacity;
                if (fits && (best < 0 || used.get(row) > used.get(best))) {
                    best = row;
                }
            }
            if (best < 0) {
                rows.add(new ArrayList<>());
                used.add(0);
                best = rows.size() - 1;
            }
            rows.get(best).add(sequence);
            used.set(best, used.get(best) + sequence.length());
        }
        return rows.stream().map(Packing::concatenate).toList();
    }

    /** The examples one after another, each keeping its own positions and targets. */
    static TrainingSequence concatenate(List<TrainingSequence> parts) {
        int length = parts.stream().mapToInt(TrainingSequence::length).sum();
        long[] ids = new long[length];
        long[] positions = new long[length];
        boolean[] targets = new boolean[length];
        int offset = 0;
        for (TrainingSequence part : parts) {
            if (part.positions()[0] != 0) {
                throw new IllegalArgumentException("a packed example must start at position 0");
            }
            System.arraycopy(part.ids(), 0, ids, offset, part.length());
            System.arraycopy(part.positions(), 0, positions, offset, part.length());
            System.arraycopy(part.targets(), 0, targets, offset, part.length());
            offset += part.length();
        }
        return new TrainingSequence(ids, positions, targets);
    }
}
