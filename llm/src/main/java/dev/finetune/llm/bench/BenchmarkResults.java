package dev.finetune.llm.bench;

import dev.finetune.llm.checkpoint.ModelConfig;
import dev.finetune.llm.inference.DraftTally;
import java.util.List;
import java.util.Locale;

/**
 * One run of {@link InferenceBenchmark} and its Markdown rendering. Rates are computed from the
 * median duration; the ranges come from the fastest and slowest runs.
 */
record BenchmarkResults(
        String date,
        String machine,
        ModelConfig config,
        int warmup,
        int repeats,
        long parameters,
        long matmulWeights,
        Samples forward,
        GenerationTimes single,
        GenerationTimes singleOpByOp,
        GenerationTimes batched,
        GenerationTimes batchedOpByOp,
        GenerationTimes batchedUnpacked,
        GenerationTimes sampled,
        GenerationTimes lookup,
        DraftTally drafts,
        PassCost passCost,
        Samples uncached,
        Samples linears,
        Samples matmul) {

    static final int FORWARD_TOKENS = InferenceBenchmark.FORWARD_BATCH * InferenceBenchmark.FORWARD_LENGTH;

    /** fp32 FLOPs of one matmul run: 2 N^3 per N x N product. */
    static double matmulFlopsPerRun() {
        double n = InferenceBenchmark.MATMUL_SIZE;
        return 2 * n * n * n * InferenceBenchmark.MATMULS_PER_RUN;
    }

    /** Model FLOPs of one forward pass: 2 per matmul weight per token (attention scores not counted). */
    double forwardFlops(long weights) {
        return 2.0 * weights * FORWARD_TOKENS;
    }

    double peakFlopsPerSecond() {
        return matmulFlopsPerRun() / matmul.median();
    }

    /**
     * The share of a batch-1 decoding step spent outside the linear layers' matmuls: per-operation
     * overhead, attention over the cache, norms, sampling.
     */
    double shareOutsideLinears() {
        int tokens = InferenceBenchmark.NEW_TOKENS;
        double stepSeconds = (single.total().median() - single.firstToken().median()) / (tokens - 1);
        double linearSeconds = linears.median() / tokens;
        return 1 - linearSeconds / stepSeconds;
    }

    /** Model FLOPs utilisation: the forward pass's FLOP rate as a fraction of the matmul rate. */
    double utilisation(long weights) {
        return forwardFlops(weights) / forward.median() / peakFlopsPerSecond();
    }

    String toMarkdown() {
        ModelConfig c = config;
        StringBuilder md = new StringBuilder();
        md.append("## Inference (`llm bench`, `dev.finetune.llm.bench.InferenceBenchmark`)\n\n");
        md.append(format("Measured %s on: %s.\n\n", date, machine));
        md.append(format(
                "Model: %s type, random weights, %,d parameters (%,d of them matmul weights): hidden %d, %d layers,"
                        + " %d query / %d key-value heads of dim %d, MLP %d, vocabulary %d, %s LM head; fp32"
                        + " weights and compute, CPU. Each figure is the median of %d runs after %d warm-up runs;"
                        + " the range is slowest to fastest run.\n\n",
                c.modelType().hfName(),
                parameters,
                matmulWeights,
                c.hiddenSize(),
                c.numHiddenLayers(),
                c.numAttentionHeads(),
                c.numKeyValueHeads(),
                c.headDim(),
                c.intermediateSize(),
                c.vocabSize(),
                c.tieWordEmbeddings() ? "tied" : "untied",
                repeats,
                warmup));
        md.append("| Measurement | Median | Range | Workload |\n");
        md.append("|---|---:|---:|---|\n");
        for (Row row : rows()) {
            md.append(format("| %s | %s | %s | %s |\n", row.name(), row.median(), row.range(), row.workload()));
        }
        md.append(format("\nReproduce: `java -Dai.djl.pytorch.num_threads=2 -Dai.djl.pytorch.num_interop_threads=1"
                + " -cp <llm classpath> dev.finetune.llm.bench.InferenceBenchmark [--out FILE]`"
                + " (or `llm bench`).\n"));
        return md.toString();
    }

    /** One line of the results table. */
    private record Row(String name, String median, String range, String workload) {}

    private List<Row> rows() {
        int n = InferenceBenchmark.MATMUL_SIZE;
        int tokens = InferenceBenchmark.NEW_TOKENS;
        String perPrompt = format("prompts of %d tokens, %d new tokens each", InferenceBenchmark.PROMPT_LENGTH, tokens);
        String single = "1 prompt, greedy; " + perPrompt + ", prompt processing included";
        return List.of(
                tokenRate(
                        "Forward pass",
                        FORWARD_TOKENS,
                        forward,
                        format(
                                "batch %d x %d tokens, logits at every position",
                                InferenceBenchmark.FORWARD_BATCH, InferenceBenchmark.FORWARD_LENGTH)),
                tokenRate("Generation, batch 1", tokens, this.single.total(), single),
                new Row(
                        "Decoding, batch 1",
                        number(this.single.decodeTokensPerSecond(tokens)) + " tokens/s",
                        "",
                        "the same calls after their first token"),
                tokenRate(
                        "Generation, batch 1, op by op",
                        tokens,
                        singleOpByOp.total(),
                        format(
                                "the same prompt, decoding steps run op by op through DJL instead of as one compiled"
                                        + " call (`CausalLm.setCompiledDecoding(false)`); decoding %s tokens/s:"
                                        + " compiled decodes %.2fx faster",
                                number(singleOpByOp.decodeTokensPerSecond(tokens)),
                                this.single.decodeTokensPerSecond(tokens)
                                        / singleOpByOp.decodeTokensPerSecond(tokens))),
                new Row(
                        "Time to first token, batch 1",
                        format("%.1f ms", 1000 * this.single.firstToken().median()),
                        format(
                                "%.1f .. %.1f ms",
                                1000 * this.single.firstToken().slowest(),
                                1000 * this.single.firstToken().fastest()),
                        "prompt processed, first token chosen"),
                tokenRate(
                        "Generation, batch 1, prompt lookup",
                        tokens,
                        lookup.total(),
                        format(
                                "the same prompt, `promptLookupTokens` %d: the same tokens, %d of them from kept"
                                        + " drafts (%d of %d draft tokens kept over %d checks), %d decoding passes"
                                        + " instead of %d; %.2fx plain batch 1",
                                InferenceBenchmark.LOOKUP_TOKENS,
                                drafts.kept(),
                                drafts.kept(),
                                drafts.drafted(),
                                drafts.checks(),
                                tokens - 1 - drafts.kept(),
                                tokens - 1,
                                lookup.tokensPerSecond(tokens) / this.single.tokensPerSecond(tokens))),
                new Row(
                        "Decoding, batch 1, prompt lookup",
                        number(lookup.decodeTokensPerSecond(tokens)) + " tokens/s",
                        "",
                        format(
                                "the same calls after their first token; %.2fx plain batch 1",
                                lookup.decodeTokensPerSecond(tokens) / this.single.decodeTokensPerSecond(tokens))),
                new Row(
                        "A speculative pass whose draft is rejected",
                        format("%.2fx a decoding step", passCost.oneDraftRatio()),
                        format(
                                "%.2f ms against %.2f ms; with %d draft tokens %.2fx (%.2f ms)",
                                1000 * passCost.oneDraft().median(),
                                1000 * passCost.decoding().median(),
                                InferenceBenchmark.LOOKUP_TOKENS,
                                passCost.fullDraftRatio(),
                                1000 * passCost.fullDraft().median()),
                        "one pass over the last token and one draft token, the draft then dropped from the cache;"
                                + " against one decoding step (medians): the most a rejected check costs once the"
                                + " draft length has come down to one"),
                tokenRate(
                        "Generation, batch " + InferenceBenchmark.BATCH,
                        batched.sequences() * tokens,
                        batched.total(),
                        format(
                                "%d prompts, greedy; %s; %.1fx batch 1's tokens/s",
                                InferenceBenchmark.BATCH,
                                perPrompt,
                                batched.tokensPerSecond(tokens) / this.single.tokensPerSecond(tokens))),
                new Row(
                        "Decoding, batch " + InferenceBenchmark.BATCH,
                        number(batched.decodeTokensPerSecond(tokens)) + " tokens/s",
                        "",
                        format(
                                "the same calls after their first token (%.1f ms: %d prompts processed); %.1fx batch"
                                        + " 1's decoding",
                                1000 * batched.firstToken().median(),
                                InferenceBenchmark.BATCH,
                                batched.decodeTokensPerSecond(tokens) / this.single.decodeTokensPerSecond(tokens))),
                tokenRate(
                        "Generation, batch " + InferenceBenchmark.BATCH + ", op by op",
                        batchedOpByOp.sequences() * tokens,
                        batchedOpByOp.total(),
                        format(
                                "the same prompts, decoding op by op; compiled generates %.2fx faster",
                                batched.tokensPerSecond(tokens) / batchedOpByOp.tokensPerSecond(tokens))),
                tokenRate(
                        "Generation, batch " + InferenceBenchmark.BATCH + ", products unpacked",
                        batchedUnpacked.sequences() * tokens,
                        batchedUnpacked.total(),
                        format(
                                "the same prompts, compiled, the products on the weights as they are instead of"
                                        + " copies packed for %d rows (`CausalLm.setPackedProducts(false)`); %.1fx"
                                        + " batch 1's tokens/s; packed generates %.2fx faster",
                                InferenceBenchmark.BATCH,
                                batchedUnpacked.tokensPerSecond(tokens) / this.single.tokensPerSecond(tokens),
                                batched.tokensPerSecond(tokens) / batchedUnpacked.tokensPerSecond(tokens))),
                tokenRate(
                        format(
                                "Generation, %d prompts x %d samples",
                                InferenceBenchmark.SAMPLED_PROMPTS, InferenceBenchmark.SAMPLES_PER_PROMPT),
                        sampled.sequences() * tokens,
                        sampled.total(),
                        format(
                                "temperature 1, top-p 0.95; the samples of a prompt share its prefill; %s; %.1fx"
                                        + " batch 1's tokens/s",
                                perPrompt, sampled.tokensPerSecond(tokens) / this.single.tokensPerSecond(tokens))),
                tokenRate(
                        "Generation without KV cache",
                        tokens,
                        uncached,
                        single + "; every step reruns the whole sequence"),
                new Row(
                        "Decoding time outside the linear layers' matmuls, batch 1",
                        format("%.0f%%", 100 * shareOutsideLinears()),
                        "",
                        format(
                                "the linear layers' matmuls alone (one row): %.2f ms per token, of %.2f ms per"
                                        + " decoding step",
                                1000 * linears.median() / tokens,
                                1000
                                        * (this.single.total().median()
                                                - this.single.firstToken().median())
                                        / (tokens - 1))),
                new Row(
                        "fp32 matmul (DJL)",
                        gflops(matmulFlopsPerRun() / matmul.median()),
                        format(
                                "%.1f .. %.1f",
                                matmulFlopsPerRun() / matmul.slowest() / 1e9,
                                matmulFlopsPerRun() / matmul.fastest() / 1e9),
                        format(
                                "[%d x %d] x [%d x %d], %d products per run",
                                n, n, n, n, InferenceBenchmark.MATMULS_PER_RUN)),
                new Row(
                        "Forward pass model FLOP/s",
                        gflops(forwardFlops(matmulWeights) / forward.median()),
                        "",
                        format("2 x %,d matmul weights x %d tokens per pass", matmulWeights, FORWARD_TOKENS)),
                new Row(
                        "Model FLOPs utilisation (MFU)",
                        format("%.0f%%", 100 * utilisation(matmulWeights)),
                        "",
                        format(
                                "forward model FLOP/s / matmul FLOP/s; counting all %,d parameters"
                                        + " (2 x params x tokens): %.0f%%",
                                parameters, 100 * utilisation(parameters))));
    }

    /** Tokens per second at the median, and from the slowest to the fastest run. */
    private static Row tokenRate(String name, int tokens, Samples samples, String workload) {
        return new Row(
                name,
                number(tokens / samples.median()) + " tokens/s",
                number(tokens / samples.slowest()) + " .. " + number(tokens / samples.fastest()),
                workload);
    }

    private static String gflops(double flopsPerSecond) {
        return format("%.1f GFLOP/s", flopsPerSecond / 1e9);
    }

    /** Whole numbers from 100 up, one decimal below. */
    private static String number(double value) {
        return format(value >= 100 ? "%,.0f" : "%.1f", value);
    }

    private static String format(String pattern, Object... args) {
        return String.format(Locale.ROOT, pattern, args);
    }
}
