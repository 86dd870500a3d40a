package dev.finetune.llm.bench;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import dev.finetune.llm.checkpoint.ModelConfig;
import dev.finetune.llm.checkpoint.ModelType;
import dev.finetune.llm.inference.DraftTally;
import dev.finetune.llm.inference.GenerationConfig;
import dev.finetune.llm.inference.Generator;
import dev.finetune.llm.inference.TokenListener;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.model.KvCache;
import dev.finetune.llm.tiny.TinyModelGenerator;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Inference speed of a ~20M-parameter llama-type model on this machine, fp32: the forward pass;
 * generation at batch 1 (whole calls, decoding alone, time to first token), at batch 16 and with 8
 * samples for each of 4 prompts, and without the KV cache; the linear layers' matmuls alone, to
 * tell per-operation overhead from arithmetic; and the machine's fp32 matmul rate (through DJL, the
 * same engine) as the peak that the forward pass's model FLOPs utilisation is measured against.
 * Results go to a Markdown file, into a section of their own between markers.
 *
 * <p>Set the engine's threads when starting the JVM, e.g. {@code -Dai.djl.pytorch.num_threads=2
 * -Dai.djl.pytorch.num_interop_threads=1}; they are recorded with the results.
 */
@Command(
        name = "bench",
        mixinStandardHelpOptions = true,
        header = "Measures inference speed of a ~20M-parameter model; writes a Markdown table.",
        description = "Measures forward and generation speed of a ~20M-parameter model and writes a Markdown table.")
public final class InferenceBenchmark implements Callable<Integer> {
    static final String SECTION = "inference-bench";

    /**
     * 20,060,544 parameters, 16,908,288 of them matmul weights: hidden 384 with head dim 64 (6 query, 2
     * key/value heads, as Llama 3's 3:1 grouping), MLP 3 x hidden, 8 layers, a vocabulary of 8192
     * and an untied LM head (3.1M parameters each for embedding and head).
     */
    public static ModelConfig modelConfig() {
        return ModelConfig.builder(ModelType.LLAMA)
                .vocabSize(8192)
                .hiddenSize(384)
                .intermediateSize(1152)
                .numHiddenLayers(8)
                .numAttentionHeads(6)
                .numKeyValueHeads(2)
                .maxPositionEmbeddings(2048)
                .rmsNormEps(1e-5)
                .build();
    }

    static final int FORWARD_BATCH = 4;
    static final int FORWARD_LENGTH = 256;
    static final int PROMPT_LENGTH = 32;
    static final int NEW_TOKENS = 64;
    /** Rows of the batched generation. */
    static final int BATCH = 16;
    /** Prompts and samples per prompt of the sampled generation (the shape of GRPO's rollouts). */
    static final int SAMPLED_PROMPTS = 4;

    static final int SAMPLES_PER_PROMPT = 8;
    /** Draft tokens a prompt-lookup step checks at most (transformers' usual {@code prompt_lookup_num_tokens}). */
    static final int LOOKUP_TOKENS = 10;

    static final int MATMUL_SIZE = 1024;
    /** About 2 GFLOP each: ten make a run long enough (~0.1 s) for the clock and short enough to repeat. */
    static final int MATMULS_PER_RUN = 10;

    @Spec
    private CommandSpec spec;

    @Option(
            names = "--out",
            paramLabel = "FILE",
            defaultValue = "docs/benchmarks.md",
            description = "Markdown file; only its inference-bench section is replaced (default ${DEFAULT-VALUE}).")
    private Path out;

    @Option(names = "--warmup", paramLabel = "N", defaultValue = "2", description = "Unmeasured runs first.")
    private int warmup;

    @Option(
            names = "--repeats",
            paramLabel = "N",
            defaultValue = "5",
            description = "Measured runs; the median is reported.")
    private int repeats;

    public static void main(String[] args) {
        // As the llm CLI: offline (the native library is in the jar), no GPU-probe warnings on CPU machines.
        System.setProperty("ai.djl.offline", System.getProperty("ai.djl.offline", "true"));
        System.setProperty(
                "org.slf4j.simpleLogger.log.ai.djl.util.cuda.CudaUtils",
                System.getProperty("org.slf4j.simpleLogger.log.ai.djl.util.cuda.CudaUtils", "error"));
        CommandLine cli = new CommandLine(new InferenceBenchmark());
        cli.setOut(new PrintWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), true));
        System.exit(cli.execute(args));
    }

    @Override
    public Integer call() throws Exception {
        if (warmup < 0 || repeats < 1) {
            throw new CommandLine.ParameterException(
                    spec.commandLine(), "--warmup must be >= 0 and --repeats >= 1, got " + warmup + " and " + repeats);
        }
        PrintWriter log = spec.commandLine().getOut();
        String date = ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'"));
        String machine = Machine.describe();
        log.println("Machine: " + machine);
        ModelConfig config = modelConfig();
        long parameters;
        long matmulWeights;
        Samples forward;
        GenerationTimes single;
        GenerationTimes singleOpByOp;
        GenerationTimes batched;
        GenerationTimes batchedOpByOp;
        GenerationTimes batchedUnpacked;
        GenerationTimes sampled;
        GenerationTimes lookup;
        DraftTally drafts;
        PassCost passCost;
        Samples uncached;
        Samples linears;
        try (CausalLm model = TinyModelGenerator.create(
                config, 1, TinyModelGenerator.Initialization.huggingFace(config), Device.cpu())) {
            parameters = parameterCount(model, false);
            matmulWeights = parameterCount(model, true);
            log.printf("Model: %,d parameters, %,d of them in matmuls%n", parameters, matmulWeights);
            forward = progress(log, "forward", measureForward(model));
            SplittableRandom random = new SplittableRandom(2);
            List<long[]> prompts = new ArrayList<>();
            for (int i = 0; i < BATCH; i++) {
                prompts.add(randomTokens(random, PROMPT_LENGTH, config.vocabSize()));
            }
            GenerationConfig greedy = GenerationConfig.greedy(NEW_TOKENS);
            single = progress(log, "generation, batch 1", measureGeneration(model, prompts.subList(0, 1), greedy));
            singleOpByOp = progress(
                    log,
                    "generation, batch 1, op by op",
                    measureTurnedOff(model::setCompiledDecoding, model, prompts.subList(0, 1), greedy));
            List<long[]> plain = Generator.generate(model, prompts.subList(0, 1), greedy);
            drafts = new DraftTally(TokenListener.NONE);
            List<long[]> lookedUp =
                    Generator.generate(model, prompts.subList(0, 1), greedy.withPromptLookup(LOOKUP_TOKENS), drafts);
            if (!Arrays.equals(plain.get(0), lookedUp.get(0))) {
                throw new IllegalStateException("prompt lookup changed the greedy tokens: "
                        + Arrays.toString(plain.get(0)) + " became " + Arrays.toString(lookedUp.get(0)));
            }
            lookup = progress(
                    log,
                    "generation, batch 1, prompt lookup",
                    measureGeneration(model, prompts.subList(0, 1), greedy.withPromptLookup(LOOKUP_TOKENS)));
            log.printf("  %d tokens, prompt lookup %s%n", drafts.tokens(), drafts.summary());
            passCost = measurePassCost(model, prompts.get(0));
            log.printf(
                    "  a decoding step %.2f ms; a pass over 1 + 1 tokens %.2f ms, over 1 + %d tokens %.2f ms%n",
                    1000 * passCost.decoding().median(),
                    1000 * passCost.oneDraft().median(),
                    LOOKUP_TOKENS,
                    1000 * passCost.fullDraft().median());
            batched = progress(log, "generation, batch " + BATCH, measureGeneration(model, prompts, greedy));
            batchedOpByOp = progress(
                    log,
                    "generation, batch " + BATCH + ", op by op",
                    measureTurnedOff(model::setCompiledDecoding, model, prompts, greedy));
            batchedUnpacked = progress(
                    log,
                    "generation, batch " + BATCH + ", products unpacked",
                    measureTurnedOff(model::setPackedProducts, model, prompts, greedy));
            sampled = progress(
                    log,
                    "generation, " + SAMPLED_PROMPTS + " x " + SAMPLES_PER_PROMPT + " samples",
                    measureGeneration(
                            model,
                            prompts.subList(0, SAMPLED_PROMPTS),
                            greedy.withSampling(1.0, 0.95, 7).withNumReturnSequences(SAMPLES_PER_PROMPT)));
            uncached = progress(
                    log,
                    "generation without KV cache",
                    measureGeneration(model, prompts.subList(0, 1), greedy.withKvCache(false))
                            .total());
            linears = progress(log, "linear layers alone", measureLinears(model));
        }
        Samples matmul = progress(log, "matmul", measureMatmul());
        BenchmarkResults results = new BenchmarkResults(
                date,
                machine,
                config,
                warmup,
                repeats,
                parameters,
                matmulWeights,
                forward,
                single,
                singleOpByOp,
                batched,
                batchedOpByOp,
                batchedUnpacked,
                sampled,
                lookup,
                drafts,
                passCost,
                uncached,
                linears,
                matmul);
        String markdown = results.toMarkdown();
        new MarkdownSection(SECTION).write(out, "Benchmarks", markdown);
        log.println();
        log.println(markdown);
        log.println("Wrote the " + SECTION + " section of " + out.toAbsolutePath());
        log.flush();
        return 0;
    }

    private Samples measureForward(CausalLm model) {
        SplittableRandom random = new SplittableRandom(3);
        long[][] ids = new long[FORWARD_BATCH][];
        for (int b = 0; b < FORWARD_BATCH; b++) {
            ids[b] = randomTokens(random, FORWARD_LENGTH, model.config().vocabSize());
        }
        return Samples.measure(warmup, repeats, () -> forward(model, ids));
    }

    @SuppressWarnings("try")
    private static void forward(CausalLm model, long[][] ids) {
        try (NDScope ignored = new NDScope()) {
            NDArray logits = model.forward(model.manager().create(ids), null, null); // [B, T, V]
            logits.getFloat(0, 0, 0); // reading a value waits for the result
        }
    }

    /**
     * Whole generation calls, timed from the call to its return and to its first token (the prompt
     * processed and one token chosen for every row). No stop tokens are set: every sequence makes all
     * {@link #NEW_TOKENS}.
     */
    private GenerationTimes measureGeneration(CausalLm model, List<long[]> prompts, GenerationConfig config) {
        int sequences = prompts.size() * config.numReturnSequences();
        double[] total = new double[repeats];
        double[] first = new double[repeats];
        for (int run = -warmup; run < repeats; run++) {
            long start = System.nanoTime();
            long[] firstToken = new long[1];
            List<long[]> tokens = Generator.generate(model, prompts, config, (sequence, step, token) -> {
                if (firstToken[0] == 0) {
                    firstToken[0] = System.nanoTime();
                }
            });
            long end = System.nanoTime();
            if (tokens.size() != sequences || tokens.stream().anyMatch(t -> t.length != NEW_TOKENS)) {
                throw new IllegalStateException("expected " + sequences + " sequences of " + NEW_TOKENS + " tokens");
            }
            if (run >= 0) {
                total[run] = (end - start) / 1e9;
                first[run] = (firstToken[0] - start) / 1e9;
            }
        }
        return new GenerationTimes(sequences, new Samples(total), new Samples(first));
    }

    /**
     * {@link #measureGeneration} with {@code setting} (compiled decoding, packed products) turned off,
     * to set beside the measurement with it on; turned on again afterwards.
     */
    private GenerationTimes measureTurnedOff(
            Consumer<Boolean> setting, CausalLm model, List<long[]> prompts, GenerationConfig config) {
        setting.accept(false);
        try {
            return measureGeneration(model, prompts, config);
        } finally {
            setting.accept(true);
        }
    }

    /**
     * What a speculative step costs when its draft is rejected whole: one pass over the last token and
     * {@link #LOOKUP_TOKENS} draft tokens (then dropping the draft from the cache), against one
     * decoding step, each {@link #NEW_TOKENS} times after the prompt.
     */
    @SuppressWarnings("try")
    private PassCost measurePassCost(CausalLm model, long[] prompt) {
        Samples decoding = afterPrompt(model, prompt, cache -> {
            try (NDScope ignored = new NDScope()) {
                model.decode(model.manager().create(new long[] {1}, new Shape(1, 1)), cache)
                        .argMax(1)
                        .toLongArray();
            }
        });
        return new PassCost(decoding, rejected(model, prompt, 1), rejected(model, prompt, LOOKUP_TOKENS));
    }

    /** A pass over the last token and {@code drafted} draft tokens, the draft then dropped from the cache. */
    @SuppressWarnings("try")
    private Samples rejected(CausalLm model, long[] prompt, int drafted) {
        long[] ids = new long[drafted + 1];
        return afterPrompt(model, prompt, cache -> {
            try (NDScope ignored = new NDScope()) {
                model.extend(model.manager().create(ids, new Shape(1, ids.length)), cache)
                        .argMax(2)
                        .toLongArray();
            }
            cache.truncate(cache.length() - drafted);
        });
    }

    /**
     * The time of one {@code step}, each run averaged over {@link #NEW_TOKENS} steps after the prompt
     * (processed untimed) in a fresh cache.
     */
    @SuppressWarnings("try")
    private Samples afterPrompt(CausalLm model, long[] prompt, java.util.function.Consumer<KvCache> step) {
        double[] seconds = new double[repeats];
        for (int run = -warmup; run < repeats; run++) {
            try (KvCache cache = model.newCache(prompt.length + NEW_TOKENS * (LOOKUP_TOKENS + 1))) {
                try (NDScope ignored = new NDScope()) {
                    model.forwardLast(model.manager().create(new long[][] {prompt}), null, cache)
                            .getFloat(0, 0);
                }
                long start = System.nanoTime();
                for (int token = 0; token < NEW_TOKENS; token++) {
                    step.accept(cache);
                }
                if (run >= 0) {
                    seconds[run] = (System.nanoTime() - start) / 1e9 / NEW_TOKENS;
                }
            }
        }
        return new Samples(seconds);
    }

    /**
     * The matmuls of the linear layers alone (every decoder layer's projections and the LM head), for
     * one row and {@link #NEW_TOKENS} tokens: the part of batch-1 decoding that is arithmetic on the
     * weights rather than per-operation overhead.
     */
    @SuppressWarnings("try")
    private Samples measureLinears(CausalLm model) {
        List<NDArray> weights = new ArrayList<>();
        boolean tied = model.config().tieWordEmbeddings();
        model.namedParameters().forEach((name, parameter) -> {
            boolean linear = name.endsWith("proj.weight")
                    || name.equals("lm_head.weight")
                    || (tied && name.equals("model.embed_tokens.weight"));
            if (linear) {
                weights.add(parameter.array()); // [O, I]
            }
        });
        try (NDManager manager = model.manager().newSubManager()) {
            List<NDArray> inputs = new ArrayList<>();
            for (NDArray weight : weights) {
                inputs.add(manager.randomNormal(new Shape(1, weight.getShape().get(1)))); // [1, I]
            }
            return Samples.measure(warmup, repeats, () -> {
                for (int token = 0; token < NEW_TOKENS; token++) {
                    try (NDScope ignored = new NDScope()) {
                        NDArray y = null;
                        for (int i = 0; i < weights.size(); i++) {
                            y = inputs.get(i)
                                    .getNDArrayInternal()
                                    .linear(inputs.get(i), weights.get(i), null)
                                    .singletonOrThrow(); // [1, I] -> [1, O]
                        }
                        y.getFloat(0, 0);
                    }
                }
            });
        }
    }

    @SuppressWarnings("try")
    private Samples measureMatmul() {
        try (NDManager manager = NDManager.newBaseManager(Device.cpu())) {
            NDArray a = manager.randomNormal(new Shape(MATMUL_SIZE, MATMUL_SIZE)); // fp32
            NDArray b = manager.randomNormal(new Shape(MATMUL_SIZE, MATMUL_SIZE));
            return Samples.measure(warmup, repeats, () -> {
                try (NDScope ignored = new NDScope()) {
                    NDArray c = null;
                    for (int i = 0; i < MATMULS_PER_RUN; i++) {
                        c = a.matMul(b); // [N, N] x [N, N]
                    }
                    c.getFloat(0, 0);
                }
            });
        }
    }

    /**
     * All parameters, or only the weights of matmuls: not norms or biases, nor the embedding table,
     * which is a lookup (unless tied, when it is also the LM head).
     */
    private static long parameterCount(CausalLm model, boolean matmulOnly) {
        boolean tied = model.config().tieWordEmbeddings();
        long count = 0;
        for (var entry : model.namedParameters().entrySet()) {
            String name = entry.getKey();
            boolean lookupOrNorm = (name.equals("model.embed_tokens.weight") && !tied)
                    || name.endsWith("norm.weight")
                    || name.endsWith(".bias");
            if (!matmulOnly || !lookupOrNorm) {
                count += entry.getValue().shape().size();
            }
        }
        return count;
    }

    private static long[] randomTokens(SplittableRandom random, int length, int vocab) {
        return random.longs(length, 0, vocab).toArray();
    }

    private static Samples progress(PrintWriter log, String name, Samples samples) {
        log.printf(
                "%-36s median %.3f s (%.3f .. %.3f s)%n", name, samples.median(), samples.fastest(), samples.slowest());
        log.flush();
        return samples;
    }

    private static GenerationTimes progress(PrintWriter log, String name, GenerationTimes times) {
        progress(log, name, times.total());
        log.printf("%-36s median %.3f s%n", "  first token", times.firstToken().median());
        return times;
    }
}
