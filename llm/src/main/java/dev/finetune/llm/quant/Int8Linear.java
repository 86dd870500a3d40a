package dev.finetune.llm.quant;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
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
 * A frozen linear layer whose weight is stored as int8 codes with one fp32 scale per output row
 * ({@link Int8}): 8 + 32 / I bits per weight value. The fp32 weight {@code codes * scale} is rebuilt
 * when the layer computes and dropped with the caller's scope; the bias, if any, stays fp32 under
 * {@code bias}.
 *
 * <p>Dimension letters: I input features, O output features; x is [..., I], y [..., O].
 */
public final class Int8Linear extends Module implements QuantizedLinear {
    private final long inFeatures;
    private final long outFeatures;
    /** The codes, INT8 [O, I]. */
    private final NDArray codes;
    /** Each row's absmax / 127, FP32 [O, 1]. */
    private final NDArray scales;

    private final Parameter bias;

    private Int8Linear(Int8Weight weight, NDArray biasValue, NDManager manager) {
        long[] shape = weight.shape();
        this.outFeatures = shape[0];
        this.inFeatures = shape[1];
        this.codes = EngineArrays.of(manager, weight.codes(), new Shape(shape), DataType.INT8);
        this.scales = EngineArrays.of(manager, weight.scales(), new Shape(outFeatures, 1));
        if (biasValue != null) {
            this.bias = parameter("bias", outFeatures);
            bias.set(biasValue);
        } else {
            this.bias = null;
        }
    }

    /** Stores an already quantised weight [O, I] (and an optional fp32 bias [O]) in {@code manager}. */
    public static Int8Linear of(Int8Weight weight, NDArray bias, NDManager manager) {
        if (weight.shape().length != 2) {
            throw new IllegalArgumentException("a linear weight is [O, I], got " + Arrays.toString(weight.shape()));
        }
        return new Int8Linear(weight, bias, manager);
    }

    /**
     * Quantises a fp32 linear. The new layer takes over the bias array; the caller closes the fp32
     * weight once the linear is no longer used.
     */
    public static Int8Linear quantize(Linear linear, NDManager manager) {
        NDArray weight = linear.weight().array(); // [O, I]
        Int8Weight quantized =
                Int8.quantize(weight.toFloatArray(), weight.getShape().getShape());
        Parameter linearBias = linear.namedParameters().get("bias");
        return new Int8Linear(quantized, linearBias == null ? null : linearBias.array(), manager);
    }

    /**
     * Reads the linear at {@code path} from a checkpoint straight into int8: {@code path.weight} [O, I]
     * is streamed a block of rows at a time (never whole in fp32), {@code path.bias} [O] is read as
     * fp32 when {@code withBias}.
     */
    public static Int8Linear read(TensorSource tensors, String path, long[] shape, boolean withBias, NDManager manager)
            throws CheckpointException {
        String weightName = path + ".weight";
        tensors.info(weightName); // a missing tensor is reported with the file(s) searched
        Int8Weight quantized = Int8.quantize(Values.of(tensors, weightName), shape);
        NDArray bias = withBias ? tensors.read(path + ".bias", new long[] {shape[0]}, manager) : null;
        return new Int8Linear(quantized, bias, manager);
    }

    /**
     * {@code x W^T + b} with W dequantised for this product only: the fp32 weight's handle is freed
     * as soon as the product is made (as {@link Nf4Linear} does), so outside a recorded graph it
     * costs one [O, I] temporary while this layer computes.
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
        NDArray weight = codes.toType(DataType.FLOAT32, false); // [O, I], exact: |code| <= 127
        weight.attach(target); // the caller's scope frees it
        return weight.muli(scales); // [O, I] * [O, 1], in place: one [O, I] temporary
    }

    @Override
    public NDArray dequantize() {
        return dequantize(codes.getManager());
    }

    @Override
    public BaseDType dtype() {
        return BaseDType.INT8;
    }

    /** The codes INT8 [O, I], for tests that check they never change. */
    NDArray codes() {
        return codes;
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

    @Override
    public long residentBytes() {
        return codes.size() + scales.size() * Float.BYTES;
    }
}
