package dev.finetune.llm.inference;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import dev.finetune.llm.model.CausalLm;
import java.util.ArrayList;
import java.util.List;

/**
 * Log-probabilities a model assigns to given tokens: {@code log p(x_t | x_<t)}. Each batch runs in
 * its own NDScope, so nothing but the returned Java arrays outlives a call.
 *
 * <p>Dimension letters: B batch, T time, V vocabulary.
 */
public final class Scorer {
    /** Sequences per forward pass unless the caller says otherwise. */
    public static final int DEFAULT_BATCH_SIZE = 8;

    private Scorer() {}

    /** Logits of a batch as a Java array [B, T, V] (row-major). */
    @SuppressWarnings("try")
    public static Logits logits(CausalLm model, TokenBatch batch) {
        try (NDScope ignored = new NDScope()) {
            NDManager manager = model.manager();
            NDArray logits = model.forward(manager.create(batch.ids()), manager.create(batch.mask()), null);
            return new Logits(
                    logits.toFloatArray(),
                    batch.size(),
                    batch.length(),
                    model.config().vocabSize());
        }
    }

    /**
     * For each sequence x of length n, {@code log p(x_t | x_<t)} for t = 1 .. n-1 (the first token
     * is not scored: it has no context).
     */
    public static List<float[]> tokenLogProbs(CausalLm model, List<long[]> sequences) {
        return tokenLogProbs(model, sequences, DEFAULT_BATCH_SIZE);
    }

    public static List<float[]> tokenLogProbs(CausalLm model, List<long[]> sequences, int batchSize) {
        List<float[]> result = new ArrayList<>();
        for (int start = 0; start < sequences.size(); start += batchSize) {
            List<long[]> chunk = sequences.subList(start, Math.min(sequences.size(), start + batchSize));
            result.addAll(scoreBatch(model, chunk));
        }
        return result;
    }

    /** {@code log p(completion | prompt)}: the sum over the completion's tokens. */
    public static double completionLogProb(CausalLm model, long[] prompt, long[] completion) {
        return completionLogProbs(model, List.of(prompt), List.of(completion))[0];
    }

    public static double[] completionLogProbs(CausalLm model, List<long[]> prompts, List<long[]> completions) {
        if (prompts.size() != completions.size()) {
            throw new IllegalArgumentException(prompts.size() + " prompts but " + completions.size() + " completions");
        }
        List<long[]> sequences = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) {
            if (prompts.get(i).length == 0) {
                throw new IllegalArgumentException(
                        "prompt " + i + " is empty: the first completion token needs context");
            }
            long[] joined = java.util.Arrays.copyOf(prompts.get(i), prompts.get(i).length + completions.get(i).length);
            System.arraycopy(completions.get(i), 0, joined, prompts.get(i).length, completions.get(i).length);
            sequences.add(joined);
        }
        List<float[]> perToken = tokenLogProbs(model, sequences);
        double[] sums = new double[prompts.size()];
        for (int i = 0; i < sums.length; i++) {
            float[] logProbs = perToken.get(i);
            for (int t = prompts.get(i).length - 1; t < logProbs.length; t++) {
                sums[i] += logProbs[t];
            }
        }
        return sums;
    }

    @SuppressWarnings("try")
    private static List<float[]> scoreBatch(CausalLm model, List<long[]> sequences) {
        TokenBatch batch = TokenBatch.rightPadded(sequences, 0);
        int length = batch.length();
        List<float[]> result = new ArrayList<>();
        if (length < 2) {
            sequences.forEach(s -> result.add(new float[0]));
            return result;
        }
        float[] flat;
        try (NDScope ignored = new NDScope()) {
            NDManager manager = model.manager();
            NDArray ids = manager.create(batch.ids()); // [B, T]
            NDArray logits = model.forward(ids, manager.create(batch.mask()), null); // [B, T, V]
            NDArray logProbs = logits.get(new NDIndex(":, :-1, :")).logSoftmax(2); // [B, T-1, V]
            NDArray targets = ids.get(new NDIndex(":, 1:")).expandDims(2); // [B, T-1, 1]
            flat = logProbs.gather(targets, 2).toFloatArray(); // [B, T-1, 1]
        }
        for (int b = 0; b < sequences.size(); b++) {
            float[] row = new float[sequences.get(b).length - 1];
            System.arraycopy(flat, b * (length - 1), row, 0, row.length);
            result.add(row);
        }
        return result;
    }

    /** Logits [B, T, V] copied out of the engine. */
    public record Logits(float[] values, int batch, int time, int vocab) {
        public float get(int b, int t, int v) {
            return values[(b * time + t) * vocab + v];
        }

        /** The V logits of one position. */
        public float[] row(int b, int t) {
            float[] row = new float[vocab];
            System.arraycopy(values, (b * time + t) * vocab, row, 0, vocab);
            return row;
        }
    }
}
