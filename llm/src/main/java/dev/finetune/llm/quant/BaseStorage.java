package dev.finetune.llm.quant;

import ai.djl.ndarray.NDManager;
import dev.finetune.llm.checkpoint.CheckpointException;
import dev.finetune.llm.checkpoint.TensorSource;
import dev.finetune.llm.model.Linear;
import dev.finetune.llm.model.LinearStorage;
import dev.finetune.llm.model.Module;
import java.util.Objects;

/**
 * How a frozen base model's decoder-layer linears are stored: fp32, int8 or NF4 (with or without
 * double quantisation of the NF4 scales). Used when a model is loaded ({@code CausalLm.load(dir,
 * device, storage)}: each linear is read from the checkpoint straight into its storage) and when
 * adapters are attached to a model loaded in fp32 ({@code Adapters.apply}).
 *
 * <p>The token embedding, the norms and the LM head (which is the embedding itself when tied) stay
 * fp32 in every storage, as bitsandbytes leaves them unquantised under {@code load_in_8bit} and
 * {@code load_in_4bit} ({@code nn.Embedding} is not replaced and {@code lm_head} is skipped). Two
 * reasons beyond matching it: the head's error goes straight into every log-probability, and a
 * quantised [V, C] head would have to be dequantised whole for every forward pass (622 MB of fp32 for
 * Qwen3's 151,936 x 1,024), raising the peak it was meant to lower. The cost is the embedding at 4
 * bytes a value instead of HF's 2 (bf16), since the engine cannot hold bf16 arrays on this CPU.
 *
 * @param dtype fp32, int8 or nf4
 * @param doubleQuantization nf4 only: quantise the block scales to 8 bits (QLoRA's default); always
 *     false for the other dtypes, so equal storages are equal records
 */
public record BaseStorage(BaseDType dtype, boolean doubleQuantization) implements LinearStorage {
    /** The exact model: every linear fp32. */
    public static final BaseStorage FP32 = new BaseStorage(BaseDType.FP32, false);
    /** Per-row absmax int8 linears. */
    public static final BaseStorage INT8 = new BaseStorage(BaseDType.INT8, false);
    /** QLoRA's storage: NF4 with double quantisation. */
    public static final BaseStorage NF4 = new BaseStorage(BaseDType.NF4, true);

    public BaseStorage {
        Objects.requireNonNull(dtype, "dtype");
        doubleQuantization = dtype == BaseDType.NF4 && doubleQuantization;
    }

    /** {@code dtype} with QLoRA's default double quantisation for nf4. */
    public static BaseStorage of(BaseDType dtype) {
        return new BaseStorage(dtype, dtype == BaseDType.NF4);
    }

    @Override
    public Module load(TensorSource tensors, String path, long[] shape, boolean withBias, NDManager manager)
            throws CheckpointException {
        return switch (dtype) {
            case FP32 -> LinearStorage.FP32.load(tensors, path, shape, withBias, manager);
            case INT8 -> Int8Linear.read(tensors, path, shape, withBias, manager);
            case NF4 -> Nf4Linear.read(tensors, path, shape, withBias, doubleQuantization, manager);
        };
    }

    /**
     * The layer {@code linear} becomes in this storage: itself for fp32, else its quantised form (the
     * new layer takes over the bias; the caller closes the fp32 weight).
     */
    public Module quantize(Linear linear, NDManager manager) {
        return switch (dtype) {
            case FP32 -> linear;
            case INT8 -> Int8Linear.quantize(linear, manager);
            case NF4 -> Nf4Linear.quantize(linear, doubleQuantization, manager);
        };
    }

    @Override
    public String toString() {
        return dtype.configName() + (dtype == BaseDType.NF4 && !doubleQuantization ? " (fp32 scales)" : "");
    }
}
