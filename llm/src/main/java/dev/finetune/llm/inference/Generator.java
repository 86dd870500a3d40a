package dev.finetune.llm.inference;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.model.KvCache;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;

/**
 * Continues a batch of prompts token by token, n sequences per prompt.
 *
 * <p>With the KV cache (the normal path) the prompts are left-padded into one batch and run once;
 * the n sequences of a prompt then copy that prompt's cache rows instead of recomputing them. Each
 * later step runs one token per unfinished sequence through {@link CausalLm#decode}: the cache is
 * written in place, positions and padding come from the cache, and the next token is chosen on the
 * engine ({@link Sampler}), so a step moves B token ids between Java and the engine and nothing
 * else. A sequence that stops leaves the batch, so it costs nothing afterwards. (On a CPU the engine
 * runs each operation before returning, so reading the B ids back each step costs no pipelining.)
 *
 * <p>With {@link GenerationConfig#promptLookupTokens} a sequence left decoding alone drafts tokens
 * from its own text and checks them in one pass ({@link #lookAhead}): the same greedy tokens in
 * fewer passes when the output copies its input or repeats itself.
 *
 * <p>Each step runs in its own NDScope; only the cache (closed at the end) survives a step. A
 * {@link TokenListener} sees each token as soon as it is chosen, for streaming.
 */
public final class Generator {
    private Generator() {}

    /**
     * The new tokens of each sequence: n per prompt, prompt-major (prompt i's sample j is at i * n + j).
     * A stop token, if one ended the sequence, is the last.
     */
    public static List<long[]> generate(CausalLm model, List<long[]> prompts, GenerationConfig config) {
        return generate(model, prompts, config, TokenListener.NONE);
    }

    /**
     * As {@link #generate(CausalLm, List, GenerationConfig)}, and hands each new token to {@code
     * listener} the moment it is chosen, before the next step's forward pass.
     */
    public static List<long[]> generate(
            CausalLm model, List<long[]> prompts, GenerationConfig config, TokenListener listener) {
        Objects.requireNonNull(listener, "listener");
        long[] promptNumbers = new long[prompts.size()];
        Arrays.setAll(promptNumbers, i -> i);
        return batch(model, prompts, promptNumbers, config, listener);
    }

    /**
     * As {@link #generate(CausalLm, List, GenerationConfig)} for any number of prompts, at most {@code
     * batchSize} prompts at a time. The prompts are batched by length (longest first), so a batch pads
     * little and no batch waits on one long prompt among short ones; each sequence is still the one
     * its number gives (seeds included), and the result is in the prompts' order.
     */
    public static List<long[]> generate(CausalLm model, List<long[]> prompts, GenerationConfig config, int batchSize) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("generation batch size must be at least 1, got " + batchSize);
        }
        Integer[] byLength = new Integer[prompts.size()];
        Arrays.setAll(byLength, i -> i);
        Arrays.sort(
                byLength,
                Comparator.comparingInt((Integer i) -> prompts.get(i).length).reversed());
        int n = config.numReturnSequences();
        long[][] result = new long[prompts.size() * n][];
        for (int start = 0; start < byLength.length; start += batchSize) {
            int end = Math.min(byLength.length, start + batchSize);
            List<long[]> batch = new ArrayList<>();
            long[] promptNumbers = new long[end - start];
            for (int b = start; b < end; b++) {
                batch.add(prompts.get(byLength[b]));
                promptNumbers[b - start] = byLength[b];
            }
            List<long[]> generated = batch(model, batch, promptNumbers, config, TokenListener.NONE);
            for (int b = 0; b < batch.size(); b++) {
                for (int j = 0; j < n; j++) {
                    result[(int) promptNumbers[b] * n + j] = generated.get(b * n + j);
                }
            }
        }
        return Arrays.asList(result);
    }

    /**
     * One batch: {@code prompts}, whose numbers in the whole request are {@code promptNumbers}; the
     * listener hears sequences by their number in this batch.
     */
    private static List<long[]> batch(
            CausalLm model,
            List<long[]> prompts,
            long[] promptNumbers,
            GenerationConfig config,
            TokenListener listener) {
        int n = config.numReturnSequences();
        long[] sequenceNumbers = new long[prompts.size() * n];
        for (int r = 0; r < sequenceNumbers.length; r++) {
            sequenceNumbers[r] = promptNumbers[r / n] * n + r % n;
        }
        Sequences sequences = new Sequences(sequenceNumbers.length, config, listener);
        Sampler sampler = new Sampler(config, sequenceNumbers);
        if (config.maxNewTokens() > 0) {
            if (config.useKvCache()) {
                cached(model, prompts, config, sequences, sampler);
            } else {
                uncached(model, prompts, config, sequences, sampler);
            }
        }
        return sequences.result();
    }

    @SuppressWarnings("try")
    private static void cached(
            CausalLm model, List<long[]> prompts, GenerationConfig config, Sequences sequences, Sampler sampler) {
        NDManager manager = model.manager();
        TokenBatch batch = TokenBatch.leftPadded(prompts, padId(model));
        int[] rows = sequences.all(); // row b of the batch continues sequence rows[b]
        long[] next;
        PromptLookup.DraftLength draftLength =
                config.promptLookupTokens() > 0 ? new PromptLookup.DraftLength(config.promptLookupTokens()) : null;
        try (KvCache cache = model.newCache(batch.length() + config.maxNewTokens())) {
            try (NDScope ignored = new NDScope()) {
                NDArray logits =
                        model.forwardLast(manager.create(batch.ids()), manager.create(batch.mask()), cache); // [P, V]
                int n = config.numReturnSequences();
                if (n > 1) { // the n sequences of a prompt share its prefill
                    long[] promptOfRow = new long[rows.length];
                    for (int r = 0; r < rows.length; r++) {
                        promptOfRow[r] = r / n;
                    }
                    cache.selectRows(promptOfRow);
                    logits = logits.get(manager.create(promptOfRow)); // [P * n, V]
                }
                next = sampler.next(logits, rows);
            }
            while (true) {
                int[] unfinished = sequences.accept(rows, next);
                // the rows of a batch advance together, so one row's count is every row's
                if (unfinished.length == 0 || sequences.generated(rows[0]) == config.maxNewTokens()) {
                    return;
                }
                if (unfinished.length < rows.length) { // finished sequences leave the batch
                    cache.selectRows(positionsOf(unfinished, rows));
                    rows = unfinished;
                    next = sequences.lastTokens(rows);
                }
                if (rows.length == 1 && draftLength != null) {
                    long[] checked = lookAhead(
                            model,
                            prompts.get(rows[0] / config.numReturnSequences()),
                            rows[0],
                            next[0],
                            draftLength,
                            config,
                            sequences,
                            cache);
                    if (checked != null) {
                        next = checked;
                        continue;
                    }
                }
                try (NDScope ignored = new NDScope()) {
                    NDArray logits = model.decode(manager.create(next, new Shape(next.length, 1)), cache); // [B, V]
                    next = sampler.next(logits, rows);
                }
            }
        }
    }

    /**
     * A speculative step for a sequence decoding alone (transformers' prompt lookup decoding): draft
     * the tokens that followed an earlier occurrence of its last tokens ({@link PromptLookup}), run
     * the last token and the draft through the model in one pass, and keep the draft tokens greedy
     * decoding would have chosen, each checked against the model's choice after the tokens before
     * it. The rejected positions leave the cache. A pass over a few tokens reads the weights once,
     * as a decoding step does, so it costs far less than as many steps (docs/benchmarks.md: a pass
     * over 1 + 1 tokens about 1.3 decoding steps, over 1 + 10 about 2): each kept draft token saves
     * most of a step, and a rejected draft costs a fraction of one.
     *
     * @param last the sequence's newest token, not yet in the cache
     * @return the model's own choice after the kept draft tokens (which {@code sequences} has taken),
     *     for the caller to accept as any step's token; null when there was no draft (decode as usual)
     */
    @SuppressWarnings("try")
    private static long[] lookAhead(
            CausalLm model,
            long[] prompt,
            int row,
            long last,
            PromptLookup.DraftLength draftLength,
            GenerationConfig config,
            Sequences sequences,
            KvCache cache) {
        long[] text = sequences.text(row, prompt);
        int room = config.maxNewTokens() - sequences.generated(row) - 1; // one token always comes from the model
        long[] draft = PromptLookup.draft(text, Math.min(draftLength.next(), room), config.stopTokens());
        if (draft.length == 0) {
            return null;
        }
        long[] input = new long[draft.length + 1];
        input[0] = last;
        System.arraycopy(draft, 0, input, 1, draft.length);
        long[] chosen; // the greedy choice after each input token
        try (NDScope ignored = new NDScope()) {
            NDArray logits = model.extend(model.manager().create(input, new Shape(1, input.length)), cache);
            chosen = logits.argMax(2).toLongArray(); // [1, T] as Sampler's greedy argmax picks
        }
        int kept = 0;
        while (kept < draft.length && draft[kept] == chosen[kept]) {
            kept++;
        }
        cache.truncate(cache.length() - (draft.length - kept));
        draftLength.checked(draft.length, kept);
        sequences.listener.onDraftChecked(row, draft.length, kept);
        for (int i = 0; i < kept; i++) {
            sequences.accept(new int[] {row}, new long[] {draft[i]}); // a draft holds no stop token
        }
        return new long[] {chosen[kept]};
    }

    /**
     * The reference path: every step reruns each unfinished sequence whole, with no cache. Same
     * tokens as {@link #cached}, much slower.
     */
    @SuppressWarnings("try")
    private static void uncached(
            CausalLm model, List<long[]> prompts, GenerationConfig config, Sequences sequences, Sampler sampler) {
        NDManager manager = model.manager();
        long padId = padId(model);
        int[] rows = sequences.all();
        for (int step = 0; step < config.maxNewTokens() && rows.length > 0; step++) {
            List<long[]> inputs = new ArrayList<>();
            for (int row : rows) {
                long[] prompt = prompts.get(row / config.numReturnSequences());
                long[] generated = sequences.tokens(row);
                long[] input = Arrays.copyOf(prompt, prompt.length + generated.length);
                System.arraycopy(generated, 0, input, prompt.length, generated.length);
                inputs.add(input);
            }
            TokenBatch batch = TokenBatch.leftPadded(inputs, padId);
            long[] next;
            try (NDScope ignored = new NDScope()) {
                NDArray logits =
                        model.forwardLast(manager.create(batch.ids()), manager.create(batch.mask()), null); // [B, V]
                next = sampler.next(logits, rows);
            }
            rows = sequences.accept(rows, next);
        }
    }

    /** Where each of {@code kept} (a subsequence of {@code rows}) is in {@code rows}. */
    private static long[] positionsOf(int[] kept, int[] rows) {
        long[] selected = new long[kept.length];
        int k = 0;
        for (int b = 0; b < rows.length && k < kept.length; b++) {
            if (rows[b] == kept[k]) {
                selected[k++] = b;
            }
        }
        return selected;
    }

    private static long padId(CausalLm model) {
        return model.config().padTokenId() == null ? 0 : model.config().padTokenId();
    }

    /** The tokens of every sequence so far, which have stopped, and the listener. */
    private static final class Sequences {
        private final GenerationConfig config;
        private final TokenListener listener;
        private final long[][] tokens;
        private final int[] lengths;

        Sequences(int count, GenerationConfig config, TokenListener listener) {
            this.config = config;
            this.listener = listener;
            this.tokens = new long[count][config.maxNewTokens()];
            this.lengths = new int[count];
        }

        int[] all() {
            int[] all = new int[tokens.length];
            Arrays.setAll(all, r -> r);
            return all;
        }

        /** Appends {@code next[b]} to sequence {@code rows[b]}; returns the sequences that go on. */
        int[] accept(int[] rows, long[] next) {
            int[] unfinished = new int[rows.length];
            int count = 0;
            for (int b = 0; b < rows.length; b++) {
                int row = rows[b];
                int step = lengths[row];
                tokens[row][step] = next[b];
                lengths[row]++;
                listener.onToken(row, step, next[b]);
                if (!config.stopTokens().contains(next[b])) {
                    unfinished[count++] = row;
                }
            }
            return Arrays.copyOf(unfinished, count);
        }

        long[] tokens(int row) {
            return Arrays.copyOf(tokens[row], lengths[row]);
        }

        int generated(int row) {
            return lengths[row];
        }

        /** {@code prompt} followed by the tokens of sequence {@code row} so far. */
        long[] text(int row, long[] prompt) {
            long[] text = Arrays.copyOf(prompt, prompt.length + lengths[row]);
            System.arraycopy(tokens[row], 0, text, prompt.length, lengths[row]);
            return text;
        }

        long[] lastTokens(int[] rows) {
            long[] last = new long[rows.length];
            for (int b = 0; b < rows.length; b++) {
                last[b] = tokens[rows[b]][lengths[rows[b]] - 1];
            }
            return last;
        }

        List<long[]> result() {
            List<long[]> result = new ArrayList<>();
            for (int r = 0; r < tokens.length; r++) {
                result.add(tokens(r));
            }
            return result;
        }
    }
}
