package dev.finetune.llm.model;

import ai.djl.engine.EngineException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValue;
import ai.djl.pytorch.jni.IValueUtils;
import ai.djl.pytorch.jni.JniUtils;
import dev.finetune.llm.checkpoint.ModelConfig;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

/**
 * A decoding step (one new token per row after a KV cache) as one engine call: the step {@link
 * DecoderModel#decode} and the LM head compute, written as TorchScript source for the model's shape,
 * compiled by libtorch ({@link TorchScriptArchive}) and run through DJL with the model's own weight
 * arrays and the cache's own buffers. Op by op, a step of a small model pays DJL's per-call overhead
 * some 500 times; compiled, the engine runs the same operations without returning to Java
 * (docs/benchmarks.md: 1.4-1.5x faster generation at batch 1). The same module's {@code extend} runs
 * a pass over several new tokens per row the same way: prompt lookup's check of its draft tokens
 * after the cache ({@link DecoderModel#extend}), and the prompts' pass that fills the cache ({@link
 * DecoderModel#forward}, the last position's logits only).
 *
 * <p>The source calls the operations the op-by-op path calls, in the same order with the same
 * operands, so both give the same logits bit for bit (CompiledDecodingTest). It covers every fp32
 * layout the model loads (biases, qwen3's q/k norms, tied embeddings, sliding windows) and LoRA
 * adapters ({@code base(x) + B(A(x)) * scaling}); a model with a quantised or fp16 layer, a DoRA
 * layer or a score head decodes op by op ({@link #decode} returns null).
 *
 * <p>One module is compiled per structure (which linears have a bias or an adapter), and is handed
 * the weight arrays again whenever the model holds different ones, so an adapter switched off, or
 * weights replaced, is seen at the next step. Weights updated in place need nothing.
 *
 * <p><b>Packed products.</b> From {@value #MIN_PACKED_ROWS} rows on, a step's products run on
 * copies of the weights that MKL has laid out once for that many rows ({@code cblas_sgemm_pack}),
 * instead of the engine laying each weight out again at every product: at 16 rows the benchmark
 * model's products take a fifth to a quarter less time (docs/benchmarks.md). The copies are made when
 * a batch begins (a new cache) with that many rows, and kept for the next batch of as many; once rows
 * leave a batch, its later steps use the weights as they are. The copies are as large as the product
 * weights, so they are made only while those are at most {@value #PACKED_PRODUCTS_MB} MiB (the
 * system property {@value #PACKED_PRODUCTS_MB_PROPERTY} sets another bound, 0 never packs). Only
 * weights nothing trains are packed (a weight with a gradient may change in place: then no product is
 * packed), and weights replaced are packed again. Packed, the logits agree with the op-by-op step's
 * within float rounding, not bit for bit. Engines built without MKL never pack.
 *
 * <p>Dimension letters: B batch, KV key/value heads, G query heads per KV head, D head dim, S keys,
 * C channels, V vocabulary.
 */
final class CompiledDecoding implements AutoCloseable {
    private static final String CLASS_NAME = "DecodingStep";
    private static final String WEIGHTS = "w";
    private static final String PACKED = "p";
    /** The system property bounding the product weights packed (MiB; 0 never packs). */
    static final String PACKED_PRODUCTS_MB_PROPERTY = "finetune.packed-products-max-mb";
    /** The default bound: small models, whose steps the copies speed up most, at little memory. */
    static final int PACKED_PRODUCTS_MB = 512;
    /**
     * The fewest rows packed products run for: measured through this engine on the benchmark model's
     * products, packing halves their time at 4 rows and saves a quarter at 8 and 16, but costs a
     * tenth at 1 and gains nothing at 2.
     */
    static final int MIN_PACKED_ROWS = 4;

    private static volatile Boolean packingAvailable;
    // Where the constants are in the weight list: inverse frequencies [D/2], eps, 1/sqrt(D), the mask value.
    private static final int INVERSE_FREQUENCIES = 0;
    private static final int EPS = 1;
    private static final int SCALE = 2;
    private static final int MASKED = 3;

    private final ModelConfig config;
    private final NDManager manager;
    private final List<NDArray> constants;
    private final Map<String, Step> steps = new HashMap<>();
    private long packedBytesAllowed = packedBytesBound();

    CompiledDecoding(ModelConfig config, NDManager parent) {
        this.config = config;
        this.manager = parent.newSubManager();
        this.constants = List.of(
                manager.create(RotaryEmbedding.inverseFrequencies(config.rope(), config.headDim())),
                manager.create((float) config.rmsNormEps()),
                manager.create((float) Math.pow(config.headDim(), -0.5)),
                manager.create(AttentionMask.MASKED));
        constants.forEach(NDScope::unregister); // made during a step: they outlive its scope
    }

    /**
     * The logits [B, V] of a decoding step of {@code inputIds} [B, 1] after {@code cache}, computed as
     * {@link DecoderModel#decode} and the LM head would; null, with nothing done, when a layer of the
     * model is not one a compiled step computes (the caller decodes op by op).
     *
     * @param lmHead the untied LM head, or null when the embedding is the head
     */
    NDArray decode(DecoderModel body, Linear lmHead, NDArray inputIds, KvCache cache) {
        int rows = (int) inputIds.getShape().get(0);
        Step step;
        synchronized (this) {
            Layout layout = layout(body, lmHead, false);
            step = step(body, lmHead, layout);
            if (step == null) {
                return null;
            }
            boolean allowed = layout.productBytes() <= packedBytesAllowed && layout.frozen() && packingAvailable();
            if (step.packFor(allowed, rows, cache)) {
                return decode(step, body, inputIds, cache, true); // holding the lock: nothing repacks meanwhile
            }
        }
        return decode(step, body, inputIds, cache, false);
    }

    private NDArray decode(Step step, DecoderModel body, NDArray inputIds, KvCache cache, boolean packed) {
        DecoderModel.DecodingStep begun = body.beginDecoding(inputIds, cache);
        int past = begun.keys() - 1;
        IValue usePacked = IValue.from(packed);
        return begun.padding() == null
                ? run(step, "forward", inputIds, begun.positions(), past, cache, usePacked)
                : run(step, "masked", inputIds, begun.positions(), past, cache, usePacked, IValue.from((PtNDArray)
                        begun.padding()));
    }

    /**
     * The logits [B, T, V] of T new real tokens per row {@code inputIds} [B, T] after {@code cache},
     * computed as {@link DecoderModel#extend} and the LM head would (a speculative step checking T - 1
     * draft tokens); null, with nothing done, when a layer is not one a compiled pass computes.
     */
    NDArray extend(DecoderModel body, Linear lmHead, NDArray inputIds, KvCache cache) {
        Step step = unpackedStep(body, lmHead);
        if (step == null) {
            return null;
        }
        int past = cache.length();
        return pass(step, inputIds, body.beginExtending(inputIds, cache), past, cache, false);
    }

    /**
     * The logits [B, 1, V] of the last of T new tokens per row {@code inputIds} [B, T] after {@code
     * cache}, with the padding mask [B, P + T] of the cached and new positions, computed as {@link
     * DecoderModel#forward} and the LM head over the last position would (a prompt's pass); null, with
     * nothing done, when a layer is not one a compiled pass computes.
     */
    NDArray prefill(DecoderModel body, Linear lmHead, NDArray inputIds, NDArray paddingMask, KvCache cache) {
        Step step = unpackedStep(body, lmHead);
        if (step == null) {
            return null;
        }
        int past = cache.length();
        DecoderModel.Pass pass = body.beginForward(inputIds, paddingMask, cache);
        // The one pass that may start an empty cache: its buffers, at the capacity the pass began with.
        cache.allocateBuffers((int) inputIds.getShape().get(0), config.numKeyValueHeads(), config.headDim());
        return pass(step, inputIds, pass, past, cache, true);
    }

    /** The module for a pass over several tokens per row, whose products are never packed. */
    private synchronized Step unpackedStep(DecoderModel body, Linear lmHead) {
        return step(body, lmHead, layout(body, lmHead, false));
    }

    /** Runs the module's {@code extend} over a begun pass: logits of every new position, or the {@code last}. */
    private NDArray pass(Step step, NDArray inputIds, DecoderModel.Pass pass, int past, KvCache cache, boolean last) {
        PtNDArray[] masks = pass.masks().stream().map(PtNDArray.class::cast).toArray(PtNDArray[]::new);
        return run(step, "extend", inputIds, pass.positions(), past, cache, IValue.from(last), IValue.listFrom(masks));
    }

    /**
     * Runs {@code method} of the module over the new tokens {@code inputIds} [B, T] at {@code positions}
     * [B, T] after the {@code past} positions of {@code cache} (whose pass has begun), then completes the
     * cache's pass; {@code more} follow the cache's buffers as arguments and are closed here.
     */
    private NDArray run(
            Step step, String method, NDArray inputIds, NDArray positions, int past, KvCache cache, IValue... more) {
        int layers = config.numHiddenLayers();
        PtNDArray[] keys = new PtNDArray[layers];
        PtNDArray[] values = new PtNDArray[layers];
        for (int layer = 0; layer < layers; layer++) { // after the pass began: the buffers may have grown
            keys[layer] = (PtNDArray) cache.keyBuffer(layer);
            values[layer] = (PtNDArray) cache.valueBuffer(layer);
        }
        List<IValue> arguments = new ArrayList<>(List.of(
                IValue.from((PtNDArray) inputIds),
                IValue.from((PtNDArray) positions),
                IValue.from((long) past),
                IValue.listFrom(keys),
                IValue.listFrom(values)));
        arguments.addAll(List.of(more));
        try (IValue result = IValueUtils.runMethod(step.module, method, arguments.toArray(IValue[]::new))) {
            NDArray logits = result.toTensor((PtNDManager) inputIds.getManager()); // [B, V] or [B, T, V]
            cache.written((int) inputIds.getShape().get(1));
            return logits;
        } finally {
            arguments.forEach(IValue::close);
        }
    }

    /**
     * The module for the layers' structure as they are now, compiled at its first use, holding their
     * weights; null when a layer is not one a compiled pass computes. Threads decoding with one model
     * share it; they hand it the same arrays unless the model changed.
     */
    private Step step(DecoderModel body, Linear lmHead, Layout layout) {
        if (layout == null) {
            return null;
        }
        Step step = steps.get(layout.key());
        if (step == null) {
            step = new Step(load(layout(body, lmHead, true).source(), manager));
            steps.put(layout.key(), step);
        }
        step.setWeights(layout.weights());
        return step;
    }

    /** The bound on packed product weights the system property sets, or the default: in bytes. */
    static long packedBytesBound() {
        return Long.getLong(PACKED_PRODUCTS_MB_PROPERTY, PACKED_PRODUCTS_MB) << 20;
    }

    /**
     * Packs products from now on when their weights are at most {@code bytes} (0: never, and the packed
     * copies are freed).
     */
    synchronized void setPackedBytesAllowed(long bytes) {
        packedBytesAllowed = bytes;
        if (bytes == 0) {
            steps.values().forEach(Step::unpack);
        }
    }

    /** The rows the products of a compiled module are packed for (the most, if several are); 0 when none is. */
    synchronized int packedRows() {
        return steps.values().stream().mapToInt(step -> step.packedRows).max().orElse(0);
    }

    /**
     * Whether this engine has MKL's packed products: asked once, by compiling a module that calls them
     * (builds without MKL, as on ARM, refuse it).
     */
    private boolean packingAvailable() {
        if (packingAvailable == null) {
            String probe = declaration()
                    + "  def forward(self, w: Tensor) -> Tensor:\n"
                    + "    return ops.mkl._mkl_reorder_linear_weight(w, " + MIN_PACKED_ROWS + ")\n";
            try (PtSymbolBlock ignored = load(probe, manager)) {
                packingAvailable = true;
            } catch (IllegalStateException e) {
                packingAvailable = false;
            }
        }
        return packingAvailable;
    }

    /** The module's class line and attributes, as its archive's state sets them ({@link #load}). */
    private static String declaration() {
        return "class " + CLASS_NAME + "(Module):\n"
                + "  __parameters__ = []\n"
                + "  __buffers__ = []\n"
                + "  training : bool\n"
                + "  " + WEIGHTS + " : List[Tensor]\n"
                + "  " + PACKED + " : List[Tensor]\n";
    }

    /** Whether the model's layers as they are now would decode compiled. */
    boolean covers(DecoderModel body, Linear lmHead) {
        return layout(body, lmHead, false) != null;
    }

    private PtSymbolBlock load(String source, NDManager manager) {
        byte[] archive = TorchScriptArchive.write(CLASS_NAME, source, List.of(WEIGHTS, PACKED));
        try {
            return JniUtils.loadModule((PtNDManager) manager, new ByteArrayInputStream(archive), false, false);
        } catch (IOException e) {
            throw new UncheckedIOException("loading the compiled decoding step", e);
        } catch (EngineException e) {
            throw new IllegalStateException(
                    "the engine could not compile the decoding step of this "
                            + config.modelType().hfName() + " model (-D" + CausalLm.COMPILED_DECODING
                            + "=false decodes op by op): " + e.getMessage(),
                    e);
        }
    }

    @Override
    public synchronized void close() {
        steps.values().forEach(step -> step.module.close());
        steps.clear();
        manager.close();
    }

    /** A compiled module, the weight arrays it was last handed, and what its products are packed for. */
    private static final class Step {
        private final PtSymbolBlock module;
        private List<NDArray> weights = List.of();
        private List<NDArray> packedFrom = List.of();
        private int packedRows;
        private WeakReference<KvCache> lastCache = new WeakReference<>(null);

        Step(PtSymbolBlock module) {
            this.module = module;
        }

        /**
         * Whether this step of {@code rows} rows after {@code cache} runs its products packed ({@code
         * allowed}: turned on, the engine can, no product weight has a gradient): packs them when a
         * batch of at least {@link #MIN_PACKED_ROWS} rows begins (a cache not seen before) or when the
         * packed weights were replaced, and frees them when they can no longer be used.
         */
        boolean packFor(boolean allowed, int rows, KvCache cache) {
            boolean newBatch = lastCache.get() != cache;
            if (newBatch) {
                lastCache = new WeakReference<>(cache);
            }
            boolean stale = !sameArrays(weights, packedFrom);
            if (!allowed || (stale && rows < MIN_PACKED_ROWS)) {
                unpack();
                return false;
            }
            if (rows == packedRows && !stale) {
                return true;
            }
            if (rows < MIN_PACKED_ROWS || !(newBatch || stale)) {
                return false; // rows left the batch: its other steps use the weights as they are
            }
            try (IValue count = IValue.from((long) rows);
                    IValue ignored = IValueUtils.runMethod(module, "pack", count)) {
                packedRows = rows;
                packedFrom = weights;
            }
            return true;
        }

        void unpack() {
            if (packedRows != 0) {
                IValueUtils.runMethod(module, "unpack").close();
                packedRows = 0;
                packedFrom = List.of();
            }
        }

        /** Hands the module {@code current} unless it holds exactly these arrays already. */
        void setWeights(List<NDArray> current) {
            if (sameArrays(current, weights)) {
                return;
            }
            PtNDArray[] arrays = current.stream().map(PtNDArray.class::cast).toArray(PtNDArray[]::new);
            try (IValue list = IValue.listFrom(arrays);
                    IValue ignored = IValueUtils.runMethod(module, "set_weights", list)) {
                weights = List.copyOf(current);
            }
        }

        private static boolean sameArrays(List<NDArray> a, List<NDArray> b) {
            if (a.size() != b.size()) {
                return false;
            }
            for (int i = 0; i < a.size(); i++) {
                if (a.get(i) != b.get(i)) {
                    return false;
                }
            }
            return true;
        }
    }

    /**
     * The model's weights in the order the step reads them, a key naming the structure (one letter per
     * linear: bias, adapter), and, when asked for, the step's TorchScript source; null when a layer
     * is not one a compiled step computes.
     */
    private Layout layout(DecoderModel body, Linear lmHead, boolean writeSource) {
        if (!(body.embedTokens() instanceof Embedding)) {
            return null; // an int8 embedding
        }
        Layout out = new Layout(writeSource);
        if (!pass(out, body, lmHead, true)) {
            return null;
        }
        if (writeSource) { // the same weights again, in the same order: the second method reads the same list
            List<NDArray> first = List.copyOf(out.weights);
            out.weights.clear();
            out.key.setLength(0);
            pass(out, body, lmHead, false);
            if (!out.weights.equals(first)) {
                throw new IllegalStateException("the two compiled methods read the weights in different orders");
            }
            out.packing();
        }
        return out.fp32() ? out : null;
    }

    /**
     * One method of the module: {@code step} (one token per row, {@code oneToken}) or {@code extend} (T
     * tokens per row), from the embedding to the logits; false when a layer is not one it computes.
     */
    private boolean pass(Layout out, DecoderModel body, Linear lmHead, boolean oneToken) {
        Embedding embedding = (Embedding) body.embedTokens();
        out.oneToken = oneToken;
        constants.forEach(out::add);
        if (oneToken) {
            out.header(config);
        } else {
            out.extendHeader(config);
        }
        int embed = out.add(embedding.weight().array());
        out.line("x = torch.embedding(w[" + embed + "], ids)"); // [B, T, C]
        for (DecoderLayer layer : body.layers()) {
            if (!out.layer(config, layer, oneToken)) {
                return false;
            }
        }
        int norm = out.add(((RmsNorm) body.child("norm")).weight().array());
        out.line("x = self.rms(x, w[" + norm + "], eps)");
        if (oneToken) {
            out.line("x = torch.reshape(x, [batch, " + config.hiddenSize() + "])");
        } else { // CausalLm.forwardLast: the last position's hidden state [B, 1, C]
            out.line("if last:");
            out.line("  x = torch.slice(x, 1, time - 1)");
        }
        int head = out.add(
                lmHead == null ? embedding.weight().array() : lmHead.weight().array());
        out.product("logits", "x", head, -1);
        out.line("return logits"); // [B, V] or [B, T, V]
        return true;
    }

    /** Collects the weight list and the key, and writes the source when asked to. */
    private static final class Layout {
        private final List<NDArray> weights = new ArrayList<>();
        /** Where in {@link #weights} the step's products' weights are, in the order they are packed. */
        private final List<Integer> products = new ArrayList<>();

        private final StringBuilder key = new StringBuilder();
        private final StringBuilder source;
        private boolean oneToken;

        Layout(boolean writeSource) {
            this.source = writeSource ? new StringBuilder() : null;
        }

        int add(NDArray array) {
            weights.add(array);
            return weights.size() - 1;
        }

        void line(String code) {
            if (source != null) {
                source.append("    ").append(code).append('\n');
            }
        }

        String key() {
            return key.toString();
        }

        List<NDArray> weights() {
            return weights;
        }

        boolean fp32() {
            return weights.stream().allMatch(w -> w.getDataType() == DataType.FLOAT32);
        }

        /** The bytes of the step's product weights: what packed copies of them take. */
        long productBytes() {
            long bytes = 0;
            for (int index : products) {
                bytes += weights.get(index).getShape().size() * Float.BYTES;
            }
            return bytes;
        }

        /** Whether no product weight has a gradient: nothing trains them, so they do not change in place. */
        boolean frozen() {
            for (int index : products) {
                if (weights.get(index).hasGradient()) {
                    return false;
                }
            }
            return true;
        }

        /**
         * {@code out = in W^T + b} for the weight and bias at these places in the list (bias -1: none); in
         * the one-token step, on the packed copy of W when the step is told its products are packed.
         */
        void product(String out, String in, int weight, int bias) {
            String b = bias < 0 ? "None" : "w[" + bias + "]";
            if (oneToken) {
                products.add(weight);
                line("if packed:");
                line("  " + out + " = ops.mkl._mkl_linear(" + in + ", p[" + (products.size() - 1) + "], w[" + weight
                        + "], " + b + ", batch)");
                line("else:");
                line("  " + out + " = torch.linear(" + in + ", w[" + weight + "], " + b + ")");
            } else {
                line(out + " = torch.linear(" + in + ", w[" + weight + "], " + b + ")");
            }
        }

        /**
         * The methods that pack the step's product weights for a number of rows, and free the packed
         * copies ({@code cblas_sgemm_pack} through libtorch's MKL ops).
         */
        void packing() {
            source.append("  def pack(self, rows: int) -> None:\n")
                    .append("    w = self." + WEIGHTS + "\n")
                    .append("    self." + PACKED + " = [");
            for (int i = 0; i < products.size(); i++) {
                source.append(i == 0 ? "" : ", ")
                        .append("ops.mkl._mkl_reorder_linear_weight(w[" + products.get(i) + "], rows)");
            }
            source.append("]\n").append("  def unpack(self) -> None:\n").append("    self." + PACKED + " = []\n");
        }

        String source() {
            return source.toString();
        }

        /** The class, its helper methods and the start of {@code step}: rotary angles, sliding-window biases. */
        void header(ModelConfig config) {
            if (source == null) {
                return;
            }
            int half = config.headDim() / 2;
            String cache = "ids: Tensor, positions: Tensor, length: int, keys: List[Tensor], values: List[Tensor]";
            source.append(declaration())
                    .append("  def set_weights(self, weights: List[Tensor]) -> None:\n")
                    .append("    self." + WEIGHTS + " = weights\n")
                    .append("  def forward(self, " + cache + ", packed: bool) -> Tensor:\n")
                    .append("    return self.step(ids, positions, length, keys, values, None, packed)\n")
                    .append("  def masked(self, " + cache + ", packed: bool, bias: Tensor) -> Tensor:\n")
                    .append("    return self.step(ids, positions, length, keys, values, bias, packed)\n")
                    .append("  def rms(self, x: Tensor, weight: Tensor, eps: Tensor) -> Tensor:\n")
                    .append("    variance = torch.mean(torch.square(x), [-1], True)\n")
                    .append("    return torch.mul(torch.div(x, torch.sqrt(torch.add(variance, eps))), weight)\n")
                    .append("  def rotate(self, x: Tensor, cos: Tensor, sin: Tensor) -> Tensor:\n")
                    .append("    turned = torch.cat([torch.neg(torch.slice(x, 3, " + half + ")), torch.slice(x, 3, 0, "
                            + half + ")], 3)\n")
                    .append("    return torch.add(torch.mul(x, cos), torch.mul(turned, sin))\n")
                    .append("  def step(self, " + cache + ", bias: Optional[Tensor], packed: bool) -> Tensor:\n");
            preamble("1");
            line("p = self." + PACKED);
            TreeSet<Integer> windows = new TreeSet<>();
            for (int i = 0; i < config.numHiddenLayers(); i++) {
                if (config.slidingWindowOf(i) > 0) {
                    windows.add(config.slidingWindowOf(i));
                }
            }
            for (int window : windows) { // DecoderModel.slidingBias: the keys the window no longer sees
                String name = "bias_" + window;
                line(name + " : Optional[Tensor] = bias");
                line("if end > " + window + ":");
                line("  outside = w[" + MASKED + "].new_zeros([1, 1, 1, end])");
                line("  torch.fill_(torch.slice(outside, 3, 0, end - " + window + "), w[" + MASKED + "])");
                line("  if bias is None:");
                line("    " + name + " = outside");
                line("  else:");
                line("    " + name + " = torch.add(bias, outside)");
            }
        }

        /**
         * The start of {@code extend}: T new tokens per row after the cache, with their positions [B, T]
         * and each layer's additive mask [B, 1, T, S] made as {@link DecoderModel#forward} makes them.
         */
        void extendHeader(ModelConfig config) {
            if (source == null) {
                return;
            }
            source.append("  def extend(self, ids: Tensor, positions: Tensor, length: int, keys: List[Tensor],"
                    + " values: List[Tensor], last: bool, masks: List[Tensor]) -> Tensor:\n");
            line("time = ids.size(1)");
            preamble("time");
        }

        /**
         * What both methods start with: the weights, the batch, where the new positions end, eps and
         * 1/sqrt(D), and RotaryEmbedding.angles of the new positions: [B, T] -> cos, sin [B, 1, T, D].
         */
        private void preamble(String newTokens) {
            line("w = self." + WEIGHTS);
            line("batch = ids.size(0)");
            line("end = length + " + newTokens);
            line("eps = w[" + EPS + "]");
            line("scale = w[" + SCALE + "]");
            line("freqs = torch.mul(torch.unsqueeze(torch.to(positions, 6), 2), w[" + INVERSE_FREQUENCIES + "])");
            line("angles = torch.unsqueeze(torch.cat([freqs, freqs], 2), 1)");
            line("cos = torch.cos(angles)");
            line("sin = torch.sin(angles)");
        }

        /**
         * One decoder layer, as DecoderLayer and SwiGluMlp compute it, with Attention's one-token path
         * ({@code oneToken}) or its general path over T tokens.
         */
        boolean layer(ModelConfig config, DecoderLayer layer, boolean oneToken) {
            Module attention = layer.child("self_attn");
            Module mlp = layer.child("mlp");
            int index = layer.index();
            String bias = config.slidingWindowOf(index) > 0 ? "bias_" + config.slidingWindowOf(index) : "bias";
            line("h = self.rms(x, w[" + add(norm(layer, "input_layernorm")) + "], eps)");
            if (!linear(attention, "q_proj", "q", "h")
                    || !linear(attention, "k_proj", "k", "h")
                    || !linear(attention, "v_proj", "v", "h")) {
                return false;
            }
            if (oneToken) {
                oneTokenAttention(config, attention, index, bias);
            } else {
                attention(config, attention, index);
            }
            if (!linear(attention, "o_proj", "o", "a")) {
                return false;
            }
            line("x = torch.add(x, o)");
            line("h = self.rms(x, w[" + add(norm(layer, "post_attention_layernorm")) + "], eps)");
            if (!linear(mlp, "gate_proj", "g", "h") || !linear(mlp, "up_proj", "u", "h")) {
                return false;
            }
            line("m = torch.mul(torch.mul(g, torch.sigmoid(g)), u)");
            if (!linear(mlp, "down_proj", "d", "m")) {
                return false;
            }
            line("x = torch.add(x, d)");
            return true;
        }

        /**
         * Attention's one-token path: each key/value head attends for its G query heads at once, no
         * transposes, h [B, 1, C] to a [B, 1, H*D].
         */
        private void oneTokenAttention(ModelConfig config, Module attention, int index, String bias) {
            int kv = config.numKeyValueHeads();
            int d = config.headDim();
            line("q = torch.reshape(q, [batch, " + kv + ", " + config.numKeyValueGroups() + ", " + d
                    + "])"); // [B, KV, G, D]
            line("k = torch.reshape(k, [batch, " + kv + ", 1, " + d + "])"); // [B, KV, 1, D]
            line("v = torch.reshape(v, [batch, " + kv + ", 1, " + d + "])");
            headNorms(config, attention);
            line("q = self.rotate(q, cos, sin)");
            line("k = self.rotate(k, cos, sin)");
            write(index);
            line("s = torch.matmul(q, torch.transpose(torch.slice(cached_keys, 2, 0, end), 2, 3))"); // [B, KV, G, S]
            line("s = torch.mul(s, scale)");
            line("if " + bias + " is not None:");
            line("  s = torch.add(s, " + bias + ")");
            line("a = torch.matmul(torch.softmax(s, 3), torch.slice(cached_values, 2, 0, end))"); // [B, KV, G, D]
            line("a = torch.reshape(a, [batch, 1, " + (long) config.numAttentionHeads() * d + "])");
        }

        /**
         * Attention's general path over T tokens: heads moved before time, keys and values repeated for
         * each query head, the layer's mask added, h [B, T, C] to a [B, T, H*D].
         */
        private void attention(ModelConfig config, Module attention, int index) {
            int heads = config.numAttentionHeads();
            int kv = config.numKeyValueHeads();
            int d = config.headDim();
            line("q = torch.reshape(q, [batch, time, " + heads + ", " + d + "])"); // [B, T, H, D]
            line("k = torch.reshape(k, [batch, time, " + kv + ", " + d + "])"); // [B, T, KV, D]
            line("v = torch.reshape(v, [batch, time, " + kv + ", " + d + "])");
            headNorms(config, attention);
            line("q = self.rotate(torch.permute(q, [0, 2, 1, 3]), cos, sin)"); // [B, H, T, D]
            line("k = self.rotate(torch.permute(k, [0, 2, 1, 3]), cos, sin)"); // [B, KV, T, D]
            line("v = torch.permute(v, [0, 2, 1, 3])");
            write(index);
            line("k = torch.slice(cached_keys, 2, 0, end)"); // [B, KV, S, D]
            line("v = torch.slice(cached_values, 2, 0, end)");
            if (heads != kv) { // repeat_kv: [B, KV, S, D] -> [B, KV, G, S, D] -> [B, H, S, D]
                String repeated = "[batch, " + kv + ", " + config.numKeyValueGroups() + ", end, " + d + "]";
                String merged = "[batch, " + heads + ", end, " + d + "]";
                line("k = torch.reshape(torch.expand(torch.unsqueeze(k, 2), " + repeated + "), " + merged + ")");
                line("v = torch.reshape(torch.expand(torch.unsqueeze(v, 2), " + repeated + "), " + merged + ")");
            }
            line("s = torch.matmul(q, torch.permute(k, [0, 1, 3, 2]))"); // [B, H, T, S]
            line("s = torch.add(torch.mul(s, scale), masks[" + index + "])");
            line("a = torch.matmul(torch.softmax(s, 3), v)"); // [B, H, T, D]
            line("a = torch.reshape(torch.permute(a, [0, 2, 1, 3]), [batch, time, " + (long) heads * d + "])");
        }

        /** qwen3's RMSNorm of each query and key head. */
        private void headNorms(ModelConfig config, Module attention) {
            if (config.qkNorm()) {
                line("q = self.rms(q, w[" + add(norm(attention, "q_norm")) + "], eps)");
                line("k = self.rms(k, w[" + add(norm(attention, "k_norm")) + "], eps)");
            }
        }

        /** The new keys and values into the cache's positions [length, end). */
        private void write(int index) {
            line("cached_keys = keys[" + index + "]");
            line("cached_values = values[" + index + "]");
            line("torch.copy_(torch.slice(cached_keys, 2, length, end), k)");
            line("torch.copy_(torch.slice(cached_values, 2, length, end), v)");
        }

        /** {@code out = in W^T + b}, and the adapter's update added; false when the layer is not such a product. */
        private boolean linear(Module parent, String name, String out, String in) {
            Optional<LinearWeights> found = ((LinearLayer) parent.child(name)).weights();
            if (found.isEmpty()) {
                return false;
            }
            LinearWeights w = found.get();
            int weight = add(w.weight());
            product(out, in, weight, w.bias() == null ? -1 : add(w.bias()));
            key.append(w.bias() == null ? (w.hasLowRank() ? 'l' : 'p') : (w.hasLowRank() ? 'L' : 'b'));
            if (w.hasLowRank()) { // LoraLinear: y.add(loraB(loraA(x)).mul(scaling))
                int a = add(w.loraA());
                int b = add(w.loraB());
                int scaling = add(w.scaling());
                line(out + " = torch.add(" + out + ", torch.mul(torch.linear(torch.linear(" + in + ", w[" + a + "]), w["
                        + b + "]), w[" + scaling + "]))");
            }
            return true;
        }

        private static NDArray norm(Module parent, String name) {
            return ((RmsNorm) parent.child(name)).weight().array();
        }
    }
}
