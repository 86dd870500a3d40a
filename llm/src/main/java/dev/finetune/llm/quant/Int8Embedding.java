package dev.finetune.llm.quant;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import dev.finetune.llm.checkpoint.CheckpointException;
import dev.finetune.llm.checkpoint.EngineArrays;
import dev.finetune.llm.checkpoint.TensorSource;
import dev.finetune.llm.model.Embedding;
import dev.finetune.llm.model.GradientMode;
import dev.finetune.llm.model.Module;
import dev.finetune.llm.model.TokenEmbedding;

/**
 * A frozen token embedding [V, C] stored as int8 with one fp32 scale per vocabulary row ({@link
 * Int8}'s per-row absmax, as {@link Int8Linear}): 8 + 32 / C bits a value, 149 MiB instead of 594
 * for Qwen3's 151,936 x 1,024. It has no parameter, so it never trains.
 *
 * <p>Lookup dequantises only the rows of the ids. As the tied LM head, the fp32 table never exists
 * whole either: {@link #logits} and {@link #logProbs} dequantise {@link #BLOCK_BYTES} of vocabulary
 * rows at a time. {@link #logProbs} keeps a running log-sum-exp over the blocks (the online softmax
 * of flash attention) and, when recorded, the exact gradient with respect to the hidden states,
 * which is all a frozen head needs:
 *
 * <pre>
 *   log p_i = h_i . W[y_i] - lse_i,   lse_i = log sum_v exp(h_i . W[v])
 *   d log p_i / d h_i = W[y_i] - sum_v softmax_iv W[v]
 * </pre>
 *
 * <p>Dimension letters: B batch, T time, C channels, V vocabulary, K rows of a block, n hidden rows.
 */
public final class Int8Embedding extends Module implements TokenEmbedding {
    /**
     * The fp32 vocabulary rows dequantised at once by the head: 16 MiB, 4,096 rows of 1,024 channels.
     * The block's logits [n, K] and its share of the gradient are small beside it, so the head's
     * transient fp32 memory stays a few tens of MiB whatever the vocabulary. Larger blocks only save
     * per-block overhead, which is already small against a block's [n, C] x [C, K] matmul.
     */
    public static final long BLOCK_BYTES = 16L << 20;

    private final long vocabulary;
    private final long channels;
    /** Vocabulary rows per block of the head: {@link #BLOCK_BYTES} of fp32 rows, or fewer in tests. */
    private final long blockRows;
    /** The codes, INT8 [V, C]. */
    private final NDArray codes;
    /** Each row's absmax / 127, FP32 [V, 1]. */
    private final NDArray scales;

    /** Takes over {@code codes} INT8 [V, C] and {@code scales} FP32 [V, 1]. */
    private Int8Embedding(NDArray codes, NDArray scales, long blockBytes) {
        long[] shape = codes.getShape().getShape();
        this.vocabulary = shape[0];
        this.channels = shape[1];
        this.blockRows = Math.max(1, blockBytes / (Float.BYTES * channels));
        this.codes = codes;
        this.scales = scales;
    }

    private Int8Embedding(Int8Weight weight, long blockBytes, NDManager manager) {
        this(
                EngineArrays.of(manager, weight.codes(), new Shape(weight.shape()), DataType.INT8),
                EngineArrays.of(manager, weight.scales(), new Shape(weight.shape()[0], 1)),
                blockBytes);
    }

    /**
     * Reads {@code path.weight} [V, C] from a checkpoint straight into int8, a block of rows at a time:
     * neither the fp32 table nor its codes are ever whole in Java (Qwen3-1.7B's codes alone are 311
     * MB); each block is quantised into the engine array's staging buffer.
     */
    public static Int8Embedding read(TensorSource tensors, String path, long[] shape, NDManager manager)
            throws CheckpointException {
        String weightName = path + ".weight";
        tensors.info(weightName); // a missing tensor is reported with the file(s) searched
        Values values = Values.of(tensors, weightName);
        int columns = Math.toIntExact(shape[1]);
        float[] rowScales = new float[Math.toIntExact(shape[0])];
        NDArray codes = EngineArrays.create(
                manager,
                new Shape(shape),
                DataType.INT8,
                EngineArrays.DEFAULT_BLOCK_BYTES,
                (first, rows, into) -> Int8.quantizeRows(values, first, rows, columns, into, rowScales));
        try {
            return new Int8Embedding(codes, EngineArrays.of(manager, rowScales, new Shape(shape[0], 1)), BLOCK_BYTES);
        } catch (RuntimeException e) {
            codes.close();
            throw e;
        }
    }

    /** Quantises a fp32 embedding (the caller closes it once it is no longer used). */
    public static Int8Embedding quantize(Embedding embedding, NDManager manager) {
        return quantize(embedding, BLOCK_BYTES, manager);
    }

    /** As {@link #quantize(Embedding, NDManager)}, the head dequantising {@code blockBytes} at a time. */
    static Int8Embedding quantize(Embedding embedding, long blockBytes, NDManager manager) {
        NDArray table = embedding.weight().array(); // [V, C]
        return new Int8Embedding(
                Int8.quantize(table.toFloatArray(), table.getShape().getShape()), blockBytes, manager);
    }

    /** The rows of {@code ids}, dequantised: only those rows ever exist in fp32. */
    @Override
    public NDArray forward(NDArray ids) {
        NDArray rows = codes.getNDArrayInternal()
                .embedding(ids, codes, SparseFormat.DENSE)
                .singletonOrThrow(); // [B, T, C] int8
        NDArray rowScales = scales.getNDArrayInternal()
                .embedding(ids, scales, SparseFormat.DENSE)
                .singletonOrThrow(); // [B, T, 1]
        return rows.toType(DataType.FLOAT32, false).muli(rowScales); // [B, T, C], exact: |code| <= 127
    }

    @Override
    public boolean trains() {
        return false;
    }

    /**
     * Logits [..., V], computed a block of vocabulary rows at a time. For generation and scoring: under
     * a recording collector every block's weight would be kept for backward (training uses {@link
     * #logProbs}).
     */
    @Override
    @SuppressWarnings("try")
    public NDArray logits(NDArray hidden) {
        NDArray logits;
        try (NDScope ignored = new NDScope()) {
            NDList parts = new NDList();
            for (long first = 0; first < vocabulary; first += blockRows) {
                NDArray weight = block(first, hidden.getManager()); // [K, C]
                parts.add(
                        hidden.getNDArrayInternal().linear(hidden, weight, null).singletonOrThrow()); // [..., K]
                weight.close(); // its handle; only a recording graph keeps the tensor
            }
            int last = hidden.getShape().dimension() - 1;
            logits = parts.size() == 1 ? parts.head() : NDArrays.concat(parts, last); // [..., V]
            NDScope.unregister(logits);
        }
        NDScope.register(logits); // the caller's scope owns the logits
        return logits;
    }

    /** A block's rows: {@link #logProbs} never holds more than [n, K] logits. */
    @Override
    public long logProbColumns() {
        return blockRows;
    }

    /**
     * {@code log softmax(hidden x W^T)[next]} a block of the vocabulary at a time: hidden [n, C], next
     * [n] give [n]. While recording, the result carries the exact gradient with respect to {@code
     * hidden} (a constant [n, C] found in the same pass), so a caller back-propagates it as any log-prob.
     */
    @Override
    @SuppressWarnings("try")
    public NDArray logProbs(NDArray hidden, NDArray next) {
        boolean withGradient = GradientMode.isRecording();
        NDArray logProb;
        NDArray gradient = null;
        try (GradientMode.Paused paused = GradientMode.pause();
                NDScope ignored = new NDScope()) {
            OnlineSoftmax softmax = new OnlineSoftmax(withGradient);
            for (long first = 0; first < vocabulary; first += blockRows) {
                try (NDScope block = new NDScope()) {
                    softmax.add(hidden, block(first, hidden.getManager())); // keeps only its [n] and [n, C] state
                }
            }
            softmax.adoptIntoCurrentScope();
            NDArray target = forward(next); // [n, C]: W[y]
            logProb = hidden.mul(target).sum(new int[] {1}).sub(softmax.logSumExp()); // [n]
            NDScope.unregister(logProb);
            if (withGradient) {
                gradient = target.sub(softmax.expectedRow()); // [n, C]: W[y] - softmax W
                NDScope.unregister(gradient);
            }
        }
        NDScope.register(logProb);
        if (gradient == null) {
            return logProb;
        }
        NDScope.register(gradient);
        NDArray linear = hidden.mul(gradient).sum(new int[] {1}); // [n], recorded: d/d hidden = gradient
        return linear.sub(linear.stopGradient()).add(logProb); // value log p, gradient that of the linear term
    }

    /** Vocabulary rows [first, first + K) dequantised to fp32 [K, C], in {@code target} and the current scope. */
    private NDArray block(long first, NDManager target) {
        NDIndex rows = new NDIndex("{}:{}", first, Math.min(vocabulary, first + blockRows));
        NDArray weight = codes.get(rows).toType(DataType.FLOAT32, false); // [K, C]
        weight.attach(target);
        return weight.muli(scales.get(rows)); // [K, C] * [K, 1]
    }

    /**
     * The fp32 table [V, C] = codes * scales, whole, in {@code target} (and the current NDScope): for
     * exporting a merged checkpoint from memory and for tests, never on the compute paths.
     */
    public NDArray dequantize(NDManager target) {
        NDArray table = codes.toType(DataType.FLOAT32, false); // [V, C]
        table.attach(target);
        return table.muli(scales); // [V, C] * [V, 1]
    }

    /** The manager holding the codes (the model's). */
    public NDManager codesManager() {
        return codes.getManager();
    }

    /** Bytes the table occupies: codes and scales. */
    public long residentBytes() {
        return codes.size() + scales.size() * Float.BYTES;
    }

    /**
     * The running state of a softmax over vocabulary blocks for n rows: each row's largest logit m so
     * far, {@code s = sum exp(z - m)} and, for the gradient, {@code a = sum exp(z - m) W[v]} [n, C].
     * Adding a block with a larger maximum rescales s and a by {@code exp(m_old - m_new)}. Runs
     * unrecorded; each array replaced is closed, so the state stays [n] + [n] + [n, C].
     */
    private static final class OnlineSoftmax {
        private final boolean withRows;
        private NDArray max; // [n]
        private NDArray sum; // [n]
        private NDArray rows; // [n, C]

        OnlineSoftmax(boolean withRows) {
            this.withRows = withRows;
        }

        void add(NDArray hidden, NDArray weight) {
            NDArray logits =
                    hidden.getNDArrayInternal().linear(hidden, weight, null).singletonOrThrow(); // [n, K]
            NDArray blockMax = logits.max(new int[] {1}); // [n]
            NDArray newMax = max == null ? blockMax : max.maximum(blockMax); // [n]
            NDArray exp = logits.sub(newMax.expandDims(1)).exp(); // [n, K], each <= 1
            NDArray newSum = exp.sum(new int[] {1}); // [n]
            NDArray newRows = withRows ? exp.matMul(weight) : null; // [n, K] x [K, C] -> [n, C]
            if (max != null) {
                NDArray rescale = max.sub(newMax).exp(); // [n], <= 1
                newSum = newSum.add(sum.mul(rescale));
                if (withRows) {
                    newRows = newRows.add(rows.mul(rescale.expandDims(1)));
                }
            }
            keep(newMax, newSum, newRows);
        }

        private void keep(NDArray newMax, NDArray newSum, NDArray newRows) {
            for (NDArray previous : new NDArray[] {max, sum, rows}) {
                if (previous != null) {
                    previous.close();
                }
            }
            max = survive(newMax);
            sum = survive(newSum);
            rows = newRows == null ? null : survive(newRows);
        }

        /** Takes an array out of the block's scope: the state is closed when replaced, or adopted at the end. */
        private static NDArray survive(NDArray array) {
            NDScope.unregister(array);
            return array;
        }

        /** Hands the state to the current scope, which frees it with the caller's temporaries. */
        void adoptIntoCurrentScope() {
            NDScope.register(max);
            NDScope.register(sum);
            if (rows != null) {
                NDScope.register(rows);
            }
        }

        NDArray logSumExp() {
            return max.add(sum.log()); // [n]
        }

        /** {@code sum_v softmax_v W[v]} [n, C]: the softmax-weighted mean of the vocabulary rows. */
        NDArray expectedRow() {
            return rows.div(sum.expandDims(1)); // [n, C]
        }
    }
}
