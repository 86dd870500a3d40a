package dev.finetune.llm.memory;

import dev.finetune.llm.checkpoint.ModelConfig;
import dev.finetune.llm.quant.BaseDType;

/**
 * How many parameters a model of a config has, split by what {@code base_dtype} applies to: the
 * weights of the decoder layers' linears (fp32, int8 or nf4), the token embedding [V, C] (a tied LM
 * head with it; int8 rows under an int8 or nf4 base, else fp32), and the rest (norms, biases, an
 * untied LM head), which always stay fp32. Counted from the config alone, without the engine, as the
 * model tree lays the parameters out (a test checks the two agree for every family).
 *
 * @param linearWeights values of the decoder-layer linear weights
 * @param embeddingRows V, the token embedding's rows
 * @param embeddingColumns C, the token embedding's columns
 * @param others every other parameter value
 */
public record ModelSize(long linearWeights, long embeddingRows, long embeddingColumns, long others) {
    public static ModelSize of(ModelConfig config) {
        long c = config.hiddenSize();
        long q = (long) config.numAttentionHeads() * config.headDim();
        long kv = (long) config.numKeyValueHeads() * config.headDim();
        long f = config.intermediateSize();
        long linear = c * q + 2 * c * kv + q * c + 3 * c * f; // q, k, v, o; gate, up, down
        long other = 2 * c; // input and post-attention norms
        other += config.qkvBias() ? q + 2 * kv : 0;
        other += config.outputBias() ? c : 0;
        other += config.mlpBias() ? 2 * f + c : 0;
        other += config.qkNorm() ? 2L * config.headDim() : 0;
        long layers = config.numHiddenLayers();
        long head = config.tieWordEmbeddings() ? 0 : (long) config.vocabSize() * c;
        return new ModelSize(layers * linear, config.vocabSize(), c, layers * other + c + head);
    }

    /** Values of the token embedding: V * C. */
    public long embedding() {
        return embeddingRows * embeddingColumns;
    }

    public long parameters() {
        return linearWeights + embedding() + others;
    }

    /**
     * The most precise storage (fp32, then int8, then nf4) whose weights take at most {@code
     * budgetBytes}; nf4 when none does (the smallest there is).
     */
    public BaseDType mostPreciseWithin(long budgetBytes) {
        for (BaseDType dtype : new BaseDType[] {BaseDType.FP32, BaseDType.INT8}) {
            if (weightBytes(dtype) <= budgetBytes) {
                return dtype;
            }
        }
        return BaseDType.NF4;
    }

    /**
     * Resident bytes of the weights with the decoder linears stored as {@code dtype}, the embedding as
     * int8 rows (a byte a value and a fp32 scale a row) unless {@code dtype} is fp32, the rest fp32.
     */
    public long weightBytes(BaseDType dtype) {
        return (long) Math.ceil(linearWeights * dtype.bitsPerWeight() / 8)
                + embeddingBytes(dtype)
                + others * Float.BYTES;
    }

    /** The token embedding's resident bytes under a base stored as {@code dtype} (see {@code BaseStorage}). */
    public long embeddingBytes(BaseDType dtype) {
        return dtype == BaseDType.FP32 ? embedding() * Float.BYTES : embedding() + embeddingRows * Float.BYTES;
    }
}
