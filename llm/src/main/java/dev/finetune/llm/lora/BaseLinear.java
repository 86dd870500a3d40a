package dev.finetune.llm.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.finetune.llm.model.Linear;
import dev.finetune.llm.model.Module;
import dev.finetune.llm.model.Parameter;
import dev.finetune.llm.quant.BaseDType;
import dev.finetune.llm.quant.BaseStorage;
import dev.finetune.llm.quant.QuantizedLinear;

/**
 * The frozen base linears under LoRA: a fp32 {@link Linear}, or its quantised form (int8 or NF4,
 * a {@link QuantizedLinear}). How the base is stored is a choice made here, once; the adapter,
 * merge and export code gets the weight, bias and shape from either without caring which.
 */
public final class BaseLinear {
    private BaseLinear() {}

    /** The weight shape [O, I]. */
    public static long[] shape(Module base) {
        if (base instanceof Linear linear) {
            return linear.weight().shape().getShape();
        }
        if (base instanceof QuantizedLinear quantized) {
            return new long[] {quantized.outFeatures(), quantized.inFeatures()};
        }
        throw unsupported(base);
    }

    /**
     * The weight as fp32 [O, I]: the parameter itself for a {@link Linear} (do not close it), a new
     * dequantised array for a quantised base (call inside an NDScope).
     */
    public static NDArray weight(Module base) {
        if (base instanceof Linear linear) {
            return linear.weight().array();
        }
        if (base instanceof QuantizedLinear quantized) {
            return quantized.dequantize();
        }
        throw unsupported(base);
    }

    /**
     * The weight as fp32 [O, I]: the parameter itself for a {@link Linear} (do not close it), a new
     * dequantised array in {@code target} (and the current NDScope) for a quantised base.
     */
    public static NDArray weight(Module base, NDManager target) {
        if (base instanceof QuantizedLinear quantized) {
            return quantized.dequantize(target);
        }
        return weight(base);
    }

    /** The bias [O], or null. */
    public static Parameter bias(Module base) {
        if (base instanceof Linear linear) {
            return linear.namedParameters().get("bias");
        }
        if (base instanceof QuantizedLinear quantized) {
            return quantized.bias();
        }
        throw unsupported(base);
    }

    /** How the base is stored: fp32, int8 or nf4. */
    public static BaseDType dtype(Module base) {
        if (base instanceof Linear) {
            return BaseDType.FP32;
        }
        if (base instanceof QuantizedLinear quantized) {
            return quantized.dtype();
        }
        throw unsupported(base);
    }

    /** Bytes the weight occupies in memory: 4 per value in fp32, codes and scales when quantised. */
    public static long residentWeightBytes(Module base) {
        if (base instanceof QuantizedLinear quantized) {
            return quantized.residentBytes();
        }
        long[] shape = shape(base);
        return shape[0] * shape[1] * Float.BYTES;
    }

    /**
     * The base stored as {@code storage} asks: a fp32 linear is quantised (its fp32 weight released);
     * a base already stored that way stays as it is.
     *
     * @param path the layer's module path, for the message
     * @throws IllegalArgumentException if the base is already quantised another way: re-quantising a
     *     quantised weight would compound the error, and its fp32 values are gone
     */
    static Module store(String path, Module base, BaseStorage storage, NDManager manager) {
        BaseDType current = dtype(base);
        if (current == storage.dtype()) {
            return base;
        }
        if (base instanceof Linear linear) {
            Module stored = storage.quantize(linear, manager);
            linear.weight().array().close();
            return stored;
        }
        throw new IllegalArgumentException(path + " is stored as " + current.configName() + " and cannot be stored as "
                + storage.dtype().configName() + ": load the model with base_dtype "
                + storage.dtype().configName());
    }

    private static IllegalArgumentException unsupported(Module base) {
        return new IllegalArgumentException(
                "not a base linear layer: " + base.getClass().getName());
    }
}
