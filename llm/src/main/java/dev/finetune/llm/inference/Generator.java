package dev.finetune.llm.inference;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.model.KvCache;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Continues a batch of prompts token by token. Prompts are left-padded so that every row's next
 * token is predicted at the same (last) column; positions count real tokens only, so a padded
 * prompt continues exactly as it would alone. With the KV cache, the first step runs the whole
 * prompt and later steps run only the newest token. Each step runs in its own NDScope; only the
 * cache (closed at the end) survives a step. A {@link TokenListener} sees each token as soon as it
 * is sampled, for streaming.
 */
public final class Generator {
    private Generator() {}

    /** The new tokens of each prompt (a stop token, if one ended the sequence, is the last). */
    public static List<long[]> generate(CausalLm model, List<long[]> prompts, GenerationConfig config) {
        return generate(model, prompts, config, TokenListener.NONE);
    }

    /**
     * As {@link #generate(CausalLm, List, GenerationConfig)}, and hands each new token to {@code
     * listener} the moment it is sampled, before the next step's forward pass.
     */
    public static List<long[]> generate(
            CausalLm model, List<long[]> prompts, GenerationConfig config, TokenListener listener) {
        Objects.requireNonNull(listener, "listener");
        long padId = model.config().padTokenId() == null ? 0 : model.config().padTokenId();
        TokenBatch batch = TokenBatch.leftPadded(prompts, padId);
        int rows = batch.size();
        long[][] tokens = batch.ids(); // grows by one column per step
        long[][] mask = batch.mask();
        List<List<Long>> generated = new ArrayList<>();
        boolean[] finished = new boolean[rows];
        for (int b = 0; b < rows; b++) {
            generated.add(new ArrayList<>());
        }
        Sampler sampler = new Sampler(config);
        try (KvCache cache = config.useKvCache() ? model.newCache() : null) {
            for (int step = 0; step < config.maxNewTokens(); step++) {
                float[] logits = nextTokenLogits(model, tokens, mask, cache); // [B, V]
                int vocab = logits.length / rows;
                long[] next = new long[rows];
                boolean allFinished = true;
                for (int b = 0; b < rows; b++) {
                    if (finished[b]) {
                        next[b] = padId; // as transformers: finished rows are fed padding
                        continue;
                    }
                    next[b] = sampler.next(Arrays.copyOfRange(logits, b * vocab, (b + 1) * vocab));
                    generated.get(b).add(next[b]);
                    listener.onToken(b, step, next[b]);
                    finished[b] = config.stopTokens().contains(next[b]);
                    allFinished &= finished[b];
                }
                if (allFinished) {
                    break;
                }
                tokens = appendColumn(tokens, next);
                mask = appendColumn(mask, ones(rows));
            }
        }
        List<long[]> result = new ArrayList<>();
        for (List<Long> row : generated) {
            result.add(row.stream().mapToLong(Long::longValue).toArray());
        }
        return result;
    }

    /**
     * Logits of the last column [B, V]. With a cache, only the columns not yet cached are run
     * (all of them on the first step, then one).
     */
    @SuppressWarnings("try")
    private static float[] nextTokenLogits(CausalLm model, long[][] tokens, long[][] mask, KvCache cache) {
        try (NDScope ignored = new NDScope()) {
            NDManager manager = model.manager();
            int cached = cache == null ? 0 : cache.length();
            long[][] input = cached == 0 ? tokens : lastColumns(tokens, tokens[0].length - cached);
            NDArray logits = model.forwardLast(manager.create(input), manager.create(mask), cache); // [B, V]
            return logits.toFloatArray();
        }
    }

    private static long[][] lastColumns(long[][] values, int count) {
        long[][] result = new long[values.length][];
        for (int b = 0; b < values.length; b++) {
            result[b] = Arrays.copyOfRange(values[b], values[b].length - count, values[b].length);
        }
        return result;
    }

    private static long[][] appendColumn(long[][] values, long[] column) {
        long[][] result = new long[values.length][];
        for (int b = 0; b < values.length; b++) {
            result[b] = Arrays.copyOf(values[b], values[b].length + 1);
            result[b][values[b].length] = column[b];
        }
        return result;
    }

    private static long[] ones(int n) {
        long[] ones = new long[n];
        Arrays.fill(ones, 1L);
        return ones;
    }
}
