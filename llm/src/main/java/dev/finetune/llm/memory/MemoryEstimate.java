package dev.finetune.llm.memory;

import dev.finetune.llm.checkpoint.ModelConfig;
import dev.finetune.llm.lora.LoraConfig;
import dev.finetune.llm.objective.ChunkedLmHead;
import dev.finetune.llm.quant.BaseDType;
import dev.finetune.llm.quant.Int8Embedding;
import dev.finetune.llm.train.Method;
import java.util.List;
import java.util.Locale;

/**
 * The memory a training step needs, estimated from the config before anything is loaded: the
 * weights as stored, the trainable state (values, gradients, AdamW's two moments, all fp32), the
 * activations autograd keeps for the backward pass, the logits, and the runtime (the JVM's heap and
 * the engine's own memory).
 *
 * <p>Activations are counted per token and decoder layer in fp32 floats, with coefficients fitted to
 * this engine's measured step peaks (eager attention, fp32; llama layouts of hidden 512-1024, MLP
 * 1536, 256-1024 tokens, batch 1-4; within about 10% of the measurements; see docs/benchmarks.md).
 * What a layer keeps for backward (each layer's other intermediate arrays are freed when it is done):
 *
 * <pre>
 *   per token and layer:  9 C + 3.75 F  (+ I + O for each adapted linear: dropout mask, A's output)
 *   per query and layer:  2.25 H S      (the softmax's output, the scores' gradient in backward)
 *   per chunk row:        4.25 V        (a chunk of logits, log-softmax and their gradients)
 * </pre>
 *
 * With activation checkpointing every layer keeps only its input (C per token) and one layer's
 * activations exist at a time, while it is recomputed for its backward pass: all of its intermediate
 * arrays and their gradients, measured at 1.8 times what it keeps (2.5 while LoRA dropout drew
 * each mask into a fresh direct buffer that lived until the next garbage collection). A quantised base, always
 * checkpointed, adds one layer's dequantised fp32 weights while that layer computes. The LM head runs
 * in chunks of {@link ChunkedLmHead#DEFAULT_CHUNK_BYTES} of logits (110 rows of a 151,936-token
 * vocabulary), so only one chunk counts. A quantised base stores the embedding as int8 rows ({@link
 * ModelSize#embeddingBytes}); tied, it is the head, which computes a chunk's log-probs a block of
 * {@link Int8Embedding#BLOCK_BYTES} of vocabulary rows at a time, so the logits term is one block's
 * rows and a block's logits per chunk row instead of a chunk's [rows, V]. DPO scores chosen and rejected answers in one micro-batch:
 * twice the sequences.
 *
 * @param weights the model's weights as stored
 * @param trainable trainable values (adapters; full fine-tuning's values are the weights), their
 *     gradients and AdamW's moments
 * @param activations what the forward pass keeps for the backward pass, and transient weights
 * @param logits the LM head's output and its gradient
 * @param runtime the JVM's heap limit and the engine's native libraries, threads and caches
 * @param rewardModels the weights of the reward models a PPO or GRPO job loads beside the policy (its
 *     {@code model:} rewards), 0 for none
 */
public record MemoryEstimate(
        long weights, long trainable, long activations, long logits, long runtime, long rewardModels) {
    /** The engine's native code, thread pools and allocator caches, beside the JVM heap (measured ~230 MiB). */
    public static final long ENGINE_BYTES = 256L << 20;

    /** What a training job's micro-batch shape is. */
    public record Step(int sequences, int length, boolean checkpointing) {}

    public long total() {
        return weights + trainable + activations + logits + runtime + rewardModels;
    }

    /** This estimate with {@code bytes} of reward model weights loaded beside the policy. */
    public MemoryEstimate withRewardModels(long bytes) {
        return new MemoryEstimate(weights, trainable, activations, logits, runtime, bytes);
    }

    /**
     * One training step of {@code method} on {@code config}.
     *
     * @param base how the decoder linears are stored (fp32 for full fine-tuning)
     * @param lora the adapters (rank and targets); ignored for full fine-tuning
     * @param step sequences per micro-batch (both answers of a DPO pair count), tokens per sequence,
     *     activation checkpointing
     * @param heapBytes the JVM's heap limit
     */
    public static MemoryEstimate training(
            ModelConfig config, Method method, BaseDType base, LoraConfig lora, Step step, long heapBytes) {
        ModelSize size = ModelSize.of(config);
        long c = config.hiddenSize();
        long f = config.intermediateSize();
        long layers = config.numHiddenLayers();
        long tokens = (long) step.sequences() * step.length();
        long trainableValues;
        double adapterFloats = 0; // per token and layer
        if (method == Method.FULL) {
            trainableValues = size.parameters();
        } else {
            trainableValues = 0;
            for (long[] shape : adaptedLinears(config, lora)) {
                trainableValues += (long) lora.r() * (shape[0] + shape[1]);
                adapterFloats += shape[0] + shape[1];
                if (lora.useDora()) {
                    trainableValues += shape[0]; // the magnitude vector [O]
                    adapterFloats += 2.0 * shape[0]; // DoRA keeps its base result [O] and its scaled update
                }
            }
            trainableValues *= layers;
        }
        // Gradients and two moments; adapters' values too (full fine-tuning's are the weights).
        long trainable = Float.BYTES * trainableValues * (method == Method.FULL ? 3 : 4);
        double perTokenLayer = 9.0 * c + 3.75 * f + adapterFloats;
        double perQueryLayer = 2.25 * config.numAttentionHeads() * step.length();
        double layerBytes = Float.BYTES * tokens * (perTokenLayer + perQueryLayer);
        double activations = step.checkpointing()
                ? Float.BYTES * tokens * c * layers + 1.8 * layerBytes // saved inputs + the layer recomputed
                : layerBytes * layers;
        if (base != BaseDType.FP32) {
            activations += Float.BYTES * 2.0 * largestLayerLinearWeights(config); // a layer's dequantised weights
        }
        BaseDType stored = method == Method.FULL ? BaseDType.FP32 : base;
        long logits;
        if (stored != BaseDType.FP32 && config.tieWordEmbeddings()) {
            // The int8 tied head: one block of dequantised rows (and its int8 slice), a block of logits per
            // chunk row, and the online softmax's [n, C] state and gradient; its chunks are sized by the block.
            long blockRows = Math.min(config.vocabSize(), Int8Embedding.BLOCK_BYTES / (Float.BYTES * c));
            long chunkRows = Math.min(tokens, ChunkedLmHead.defaultRows(blockRows));
            logits = (long) (Float.BYTES * (1.25 * blockRows * c + 4.25 * chunkRows * blockRows + 3.0 * chunkRows * c));
        } else {
            long chunkRows = Math.min(tokens, ChunkedLmHead.defaultRows(config.vocabSize()));
            logits = (long) (Float.BYTES * 4.25 * chunkRows * config.vocabSize());
        }
        return new MemoryEstimate(
                size.weightBytes(stored), trainable, (long) activations, logits, heapBytes + ENGINE_BYTES, 0);
    }

    /** A decoder layer's linear: its name and weight shape [O, I]. */
    private record LayerLinear(String name, long out, long in) {}

    /** The linears {@code lora} adapts in one decoder layer, as [O, I]. */
    private static List<long[]> adaptedLinears(ModelConfig config, LoraConfig lora) {
        long c = config.hiddenSize();
        long q = (long) config.numAttentionHeads() * config.headDim();
        long kv = (long) config.numKeyValueHeads() * config.headDim();
        long f = config.intermediateSize();
        List<LayerLinear> all = List.of(
                new LayerLinear("q_proj", q, c),
                new LayerLinear("k_proj", kv, c),
                new LayerLinear("v_proj", kv, c),
                new LayerLinear("o_proj", c, q),
                new LayerLinear("gate_proj", f, c),
                new LayerLinear("up_proj", f, c),
                new LayerLinear("down_proj", c, f));
        boolean everyLinear = lora.targetModules().equals(List.of(LoraConfig.ALL_LINEAR));
        return all.stream()
                .filter(linear -> everyLinear
                        || lora.targetModules().stream()
                                .anyMatch(t -> t.equals(linear.name()) || t.endsWith("." + linear.name())))
                .map(linear -> new long[] {linear.out(), linear.in()})
                .toList();
    }

    private static long largestLayerLinearWeights(ModelConfig config) {
        long c = config.hiddenSize();
        long q = (long) config.numAttentionHeads() * config.headDim();
        long kv = (long) config.numKeyValueHeads() * config.headDim();
        return c * q + 2 * c * kv + q * c + 3 * c * config.intermediateSize();
    }

    /**
     * "3.1 GiB (weights 0.8 GiB, trainable state 0.1 GiB, activations 1.4 GiB, logits 0.3 GiB, runtime 0.5
     * GiB)", and ", reward models 0.8 GiB" before the parenthesis closes when there are some.
     */
    public String describe() {
        return WorkerMemory.format(total())
                + String.format(
                        Locale.ROOT,
                        " (weights %s, trainable state %s, activations %s, logits %s, runtime %s%s)",
                        WorkerMemory.format(weights),
                        WorkerMemory.format(trainable),
                        WorkerMemory.format(activations),
                        WorkerMemory.format(logits),
                        WorkerMemory.format(runtime),
                        rewardModels == 0 ? "" : ", reward models " + WorkerMemory.format(rewardModels));
    }
}
