package dev.finetune.llm.model;

import ai.djl.ndarray.NDManager;
import dev.finetune.llm.checkpoint.CheckpointException;
import dev.finetune.llm.checkpoint.TensorSource;
import java.util.Optional;

/**
 * How the decoder layers' linears (and, for a quantised base, the frozen token embedding) are kept in
 * memory when a model is loaded: as fp32 {@link Linear}s ({@link #FP32}) or in a quantised form (the
 * {@code quant} package's {@code BaseStorage}). A loader reads one linear's tensors from the
 * checkpoint into the layer that replaces the fp32 one, so a quantised model is built tensor by
 * tensor and never exists whole in fp32.
 */
@FunctionalInterface
public interface LinearStorage {
    /** Every linear as a fp32 {@link Linear}, exactly as in the checkpoint. */
    LinearStorage FP32 = Linear::read;

    /**
     * The layer for the linear at {@code path}: weight {@code path.weight} [O, I] and, when {@code
     * withBias}, bias {@code path.bias} [O], read from {@code tensors} into {@code manager}. The
     * returned module implements {@link LinearLayer}.
     *
     * @param shape the weight shape [O, I] the model expects
     */
    Module load(TensorSource tensors, String path, long[] shape, boolean withBias, NDManager manager)
            throws CheckpointException;

    /**
     * The module that holds the token embedding {@code path.weight} [V, C] instead of an fp32 {@link
     * Embedding}, read from {@code tensors} into {@code manager}; empty to keep it fp32 (the default).
     * A storage that returns one freezes the embedding: the module has no trainable parameter.
     */
    default Optional<Module> frozenEmbedding(TensorSource tensors, String path, long[] shape, NDManager manager)
            throws CheckpointException {
        return Optional.empty();
    }
}
