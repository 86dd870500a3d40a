package dev.finetune.llm.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.finetune.llm.model.Linear;
import dev.finetune.llm.model.Module;
import dev.finetune.llm.model.Parameter;
import dev.finetune.llm.quant.Nf4Linear;

/**
 * The frozen base linears under LoRA: a fp32 {@link Linear}, or its NF4 form under QLoRA. What the
 * adapter, merge and export code needs from either, without caring which.
 */
public final class BaseLinear {
    private BaseLinear() {}

    /** The weight shape [O, I]. */
    public static long[] shape(Module base) {
        if (base instanceof Linear linear) {
            return linear.weight().shape().getShape();
        }
        if (base instanceof Nf4Linear nf4) {
            return new long[] {nf4.outFeatures(), nf4.inFeatures()};
        }
        throw unsupported(base);
    }

    /**
     * The weight as fp32 [O, I]: the parameter itself for a {@link Linear} (do not close it), a new
     * dequantised array for NF4 (call inside an NDScope).
     */
    public static NDArray weight(Module base) {
        if (base instanceof Linear linear) {
            return linear.weight().array();
        }
        if (base instanceof Nf4Linear nf4) {
            return nf4.dequantize();
        }
        throw unsupported(base);
    }

    /** The bias [O], or null. */
    public static Parameter bias(Module base) {
        if (base instanceof Linear linear) {
            return linear.namedParameters().get("bias");
        }
        if (base instanceof Nf4Linear nf4) {
            return nf4.bias();
        }
        throw unsupported(base);
    }

    /** Bytes the weight occupies in memory: 4 per value in fp32, codes and scales in NF4. */
    public static long residentWeightBytes(Module base) {
        if (base instanceof Nf4Linear nf4) {
            return nf4.residentBytes();
        }
        long[] shape = shape(base);
        return shape[0] * shape[1] * Float.BYTES;
    }

    /** The NF4 version of a fp32 base linear, whose fp32 weight is released; NF4 stays as it is. */
    static Module quantize(Module base, LoraConfig config, NDManager manager) {
        if (base instanceof Linear linear) {
            Nf4Linear quantized = Nf4Linear.quantize(linear, config.doubleQuantization(), manager);
            linear.weight().array().close();
            return quantized;
        }
        if (base instanceof Nf4Linear) {
            return base;
        }
        throw unsupported(base);
    }

    private static IllegalArgumentException unsupported(Module base) {
        return new IllegalArgumentException(
                "not a base linear layer: " + base.getClass().getName());
    }
}
