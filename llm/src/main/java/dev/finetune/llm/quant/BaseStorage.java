package dev.finetune.llm.quant;

import ai.djl.ndarray.NDManager;
import dev.finetune.llm.checkpoint.CheckpointException;
import dev.finetune.llm.checkpoint.TensorSource;
import dev.finetune.llm.model.Linear;
import dev.finetune.llm.model.LinearStorage;
import dev.finetune.llm.model.Module;
import java.util.Objects;
import java.util.Optional;

/**
 * How a frozen base model's decoder-layer linears (and its frozen embedding) are stored: fp32, int8 or NF4 (with or without
 * double quantisation of the NF4 scales). Used when a model is loaded ({@code CausalLm.load(dir,
 * device, storage)}: each linear is read from the checkpoint straight into its storage) and when
 * adapters are attached to a model loaded in fp32 ({@code Adapters.apply}).
 *
 * <p>For int8 and nf4 the token embedding is frozen and stored as int8 per row ({@link
 * Int8Embedding}, {@link #frozenEmbedding}): one scale per vocabulary row, as {@link Int8Linear}'s per
 * output row. With tied embeddings that table is also the LM head. Why int8 and not fp32 (what
 * bitsandbytes keeps: {@code nn.Embedding} is not replaced and {@code lm_head} is skipped): the fp32
 * embedding was the largest single item of a quantised small model, 594 MiB of Qwen3-0.6B's 1,550
 * MiB at rest under nf4, and int8 keeps 149 MiB of it. Why not nf4: the head's error goes straight
 * into every log-probability, and int8's is a fraction of nf4's ({@code Int8BaseTest}); the int8
 * embedding's own log-prob error is measured in {@code Int8EmbeddingTest}. The head never holds its
 * fp32 weight [V, C] whole: it is dequantised {@link Int8Embedding#BLOCK_BYTES} at a time.
 *
 * <p>This applies only when the base is quantised, i.e. LoRA / QLoRA, where the embedding is frozen;
 * full fine-tuning loads the base in fp32 and trains the embedding in fp32. An untied {@code
 * lm_head} stays fp32 (as bitsandbytes): its error would enter every logit directly while the
 * untied embedding's enters only through the layers' inputs, and the tied case, where the two are
 * one matrix, is the one the memory target is about. Norms stay fp32 (a few KiB). The cost of the
 * fp32 parts is 4 bytes a value instead of HF's 2 (bf16), since the engine cannot hold bf16 arrays on
 * this CPU.
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

    /** Whether the token embedding is frozen as int8 rows: for int8 and nf4 bases, not fp32. */
    public boolean freezesEmbedding() {
        return dtype != BaseDType.FP32;
    }

    @Override
    public Optional<Module> frozenEmbedding(TensorSource tensors, String path, long[] shape, NDManager manager)
            throws CheckpointException {
        return freezesEmbedding() ? Optional.of(Int8Embedding.read(tensors, path, shape, manager)) : Optional.empty();
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
