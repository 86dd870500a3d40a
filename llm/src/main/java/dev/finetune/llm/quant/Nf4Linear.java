package dev.finetune.llm.quant;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.finetune.llm.checkpoint.CheckpointException;
import dev.finetune.llm.checkpoint.EngineArrays;
import dev.finetune.llm.checkpoint.TensorSource;
import dev.finetune.llm.model.Linear;
import dev.finetune.llm.model.Module;
import dev.finetune.llm.model.Parameter;
import java.util.Arrays;

/**
 * A frozen linear layer whose weight is stored as NF4 ({@link Nf4}): only the packed codes and the
 * (double-)quantised block scales are resident; the fp32 weight is rebuilt on every forward pass
 * and its temporaries are freed as soon as the product is computed. The weight never has a gradient; the input does, so LoRA
 * adapters before and after this layer train through it. The bias, if any, stays fp32 under
 * {@code bias}.
 *
 * <p>Dequantisation without bit operations (DJL has none): two 256-entry tables give, for each
 * byte value, the code value of its high and of its low nibble, so one {@code take} per nibble
 * turns the packed bytes into code values.
 *
 * <p>Dimension letters: I input features, O output features, N = O * I weight values, NB blocks of
 * 64 values (N rounded up), NG groups of 256 scales; x is [..., I], y [..., O].
 */
public final class Nf4Linear extends Module implements QuantizedLinear {
    private final long inFeatures;
    private final long outFeatures;
    private final long count;
    private final int blocks;
    /** The codes, UINT8 [NB * 32]. */
    private final NDArray packedCodes;
    /** Plain scales, FP32 [NB, 1]; null under double quantisation. */
    private final NDArray absmax;
    /** Double quantisation: the int8 scale codes, INT8 [NB, 1]; else null. */
    private final NDArray scaleCodes;
    /** Double quantisation: each group's absmax / 127, FP32 [NG, 1]; else null. */
    private final NDArray scaleStep;
    /** Double quantisation: the mean subtracted from the scales, FP32 scalar; else null. */
    private final NDArray scaleMean;
    /** The code value of the high nibble of each byte value, FP32 [256]. */
    private final NDArray highNibbleValues;
    /** The code value of the low nibble of each byte value, FP32 [256]. */
    private final NDArray lowNibbleValues;

    private final Parameter bias;

    private Nf4Linear(Nf4Weight weight, NDArray biasValue, NDManager manager) {
        long[] shape = weight.shape();
        this.outFeatures = shape[0];
        this.inFeatures = shape[1];
        this.count = weight.count();
        this.blocks = weight.scales().blocks();
        this.packedCodes =
                EngineArrays.of(manager, weight.packedCodes(), new Shape(weight.packedCodes().length), DataType.UINT8);
        if (weight.scales() instanceof Nf4Weight.DoubleQuantizedScales dq) {
            this.absmax = null;
            this.scaleCodes = EngineArrays.of(manager, dq.codes(), new Shape(dq.codes().length, 1), DataType.INT8);
            this.scaleStep = manager.create(dq.step(), new Shape(dq.step().length, 1));
            this.scaleMean = manager.create(dq.mean());
        } else {
            float[] values = ((Nf4Weight.Fp32Scales) weight.scales()).absmax();
            this.absmax = EngineArrays.of(manager, values, new Shape(values.length, 1));
            this.scaleCodes = null;
            this.scaleStep = null;
            this.scaleMean = null;
        }
        float[] high = new float[256];
        float[] low = new float[256];
        for (int b = 0; b < 256; b++) {
            high[b] = Nf4.CODE_VALUES[b / 16];
            low[b] = Nf4.CODE_VALUES[b % 16];
        }
        this.highNibbleValues = manager.create(high);
        this.lowNibbleValues = manager.create(low);
        if (biasValue != null) {
            this.bias = parameter("bias", outFeatures);
            bias.set(biasValue);
        } else {
            this.bias = null;
        }
    }

    /** Stores an already quantised weight [O, I] (and an optional fp32 bias [O]) in {@code manager}. */
    public static Nf4Linear of(Nf4Weight weight, NDArray bias, NDManager manager) {
        if (weight.shape().length != 2) {
            throw new IllegalArgumentException("a linear weight is [O, I], got " + Arrays.toString(weight.shape()));
        }
        return new Nf4Linear(weight, bias, manager);
    }

    /**
     * Quantises a fp32 linear. The new layer takes over the bias array; the caller closes the fp32
     * weight once the linear is no longer used.
     */
    public static Nf4Linear quantize(Linear linear, boolean doubleQuantization, NDManager manager) {
        NDArray weight = linear.weight().array(); // [O, I]
        Nf4Weight quantized =
                Nf4.quantize(weight.toFloatArray(), weight.getShape().getShape(), doubleQuantization);
        Parameter linearBias = linear.namedParameters().get("bias");
        return new Nf4Linear(quantized, linearBias == null ? null : linearBias.array(), manager);
    }

    /**
     * Reads the linear at {@code path} from a checkpoint straight into NF4: {@code path.weight} [O, I]
     * is streamed a chunk at a time (never whole in fp32), {@code path.bias} [O] is read as fp32 when
     * {@code withBias}.
     */
    public static Nf4Linear read(
            TensorSource tensors,
            String path,
            long[] shape,
            boolean withBias,
            boolean doubleQuantization,
            NDManager manager)
            throws CheckpointException {
        String weightName = path + ".weight";
        tensors.info(weightName); // a missing tensor is reported with the file(s) searched
        Nf4Weight quantized =
                Nf4.quantize(Values.of(tensors, weightName), shape[0] * shape[1], shape, doubleQuantization);
        NDArray bias = withBias ? tensors.read(path + ".bias", new long[] {shape[0]}, manager) : null;
        return of(quantized, bias, manager);
    }

    /**
     * Dequantises, multiplies and drops every temporary at once: the fp32 weight lives past this call
     * only if the recorded graph holds it for backward (libtorch counts references; closing DJL's
     * handle does not free a tensor autograd saved). Under activation checkpointing nothing is
     * recorded in the first pass, and the recompute rebuilds the weight for the layer's backward.
     */
    @Override
    @SuppressWarnings("try")
    public NDArray forward(NDArray x) {
        NDArray y;
        try (NDScope ignored = new NDScope()) {
            NDArray weight = dequantize(x.getManager()); // [O, I], no gradient
            NDArray b = bias == null ? null : bias.array();
            y = x.getNDArrayInternal().linear(x, weight, b).singletonOrThrow(); // [..., I] -> [..., O]
            NDScope.unregister(y);
        }
        NDScope.register(y); // the caller's scope owns the output
        return y;
    }

    @Override
    public NDArray dequantize(NDManager target) {
        NDArray bytes = attach(packedCodes.toType(DataType.INT64, false), target); // [NB * 32] values 0..255
        NDArray high = highNibbleValues.take(target, bytes); // [NB * 32] values 2k
        NDArray low = lowNibbleValues.take(target, bytes); // [NB * 32] values 2k + 1
        NDArray values = high.stack(low, 1).reshape(blocks, Nf4.BLOCK_SIZE); // [NB * 32, 2] -> [NB, 64]
        NDArray weight = values.mul(blockScales(target)).reshape(-1); // [NB, 64] * [NB, 1] -> [NB * 64]
        if (weight.size() != count) {
            weight = weight.get(new NDIndex(":{}", count)); // drop the padding of the last block
        }
        return weight.reshape(outFeatures, inFeatures); // [O, I]
    }

    @Override
    public NDArray dequantize() {
        return dequantize(packedCodes.getManager());
    }

    /** The block scales [NB, 1]: stored, or {@code code * step + mean} under double quantisation. */
    private NDArray blockScales(NDManager target) {
        if (absmax != null) {
            return absmax;
        }
        NDArray codes = attach(scaleCodes.toType(DataType.FLOAT32, false), target); // [NB, 1]
        NDArray steps = attach(scaleStep.repeat(0, Nf4.SCALE_BLOCK_SIZE), target) // [NG * 256, 1]
                .get(new NDIndex(":{}", blocks)); // [NB, 1]: step of block b is step[b / 256]
        return codes.mul(steps).add(scaleMean); // [NB, 1]
    }

    /** Moves a temporary made from a weight array to the caller's manager, so the caller's scope frees it. */
    private static NDArray attach(NDArray array, NDManager target) {
        array.attach(target);
        return array;
    }

    /** The packed codes UINT8 [NB * 32], for tests that check they never change. */
    NDArray packedCodes() {
        return packedCodes;
    }

    @Override
    public BaseDType dtype() {
        return BaseDType.NF4;
    }

    @Override
    public long inFeatures() {
        return inFeatures;
    }

    @Override
    public long outFeatures() {
        return outFeatures;
    }

    @Override
    public Parameter bias() {
        return bias;
    }

    /**
     * Bytes the quantised weight occupies: packed codes and scales, as stored (the bias and the two
     * 1 KB lookup tables are not part of the weight).
     */
    @Override
    public long residentBytes() {
        long bytes = packedCodes.size();
        if (absmax != null) {
            return bytes + absmax.size() * Float.BYTES;
        }
        return bytes + scaleCodes.size() + (scaleStep.size() + scaleMean.size()) * Float.BYTES;
    }

    /** Resident bits per weight value: 4.5 with fp32 scales, ~4.127 with double quantisation. */
    @Override
    public double bitsPerParameter() {
        return 8.0 * residentBytes() / count;
    }
}
