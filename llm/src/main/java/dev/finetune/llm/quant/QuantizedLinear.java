package dev.finetune.llm.quant;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.finetune.llm.model.LinearLayer;
import dev.finetune.llm.model.Parameter;

/**
 * A frozen linear layer whose weight [O, I] is stored in a quantised form ({@link Int8Linear},
 * {@link Nf4Linear}) and rebuilt in fp32 when the layer computes. The weight never has a gradient;
 * the input does, so LoRA adapters around the layer train through it. The bias, if any, stays fp32.
 */
public interface QuantizedLinear extends LinearLayer {
    /** The storage: {@link BaseDType#INT8} or {@link BaseDType#NF4}. */
    BaseDType dtype();

    long inFeatures();

    long outFeatures();

    /** The fp32 bias [O], or null. */
    Parameter bias();

    /** The fp32 weight [O, I], created in {@code target} (and the current NDScope). */
    NDArray dequantize(NDManager target);

    /** The fp32 weight [O, I] in the stored arrays' manager (use inside an NDScope). */
    NDArray dequantize();

    /** Bytes the quantised weight occupies: codes and scales as stored (not the bias). */
    long residentBytes();

    /** Resident bits per weight value. */
    default double bitsPerParameter() {
        return 8.0 * residentBytes() / (inFeatures() * outFeatures());
    }
}
