package dev.finetune.llm.tiny;

import dev.finetune.llm.checkpoint.ModelConfig;
import dev.finetune.llm.checkpoint.ModelType;
import dev.finetune.llm.checkpoint.RopeConfig;
import dev.finetune.llm.tokenizer.SpecialToken;
import dev.finetune.llm.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Configs of tiny models that keep each family's distinguishing features: hidden 64, 2 layers, 4
 * query / 2 key-value heads, vocabulary 128.
 */
public final class TinyModels {
    private TinyModels() {}

    public static ModelConfig config(ModelType type) {
        ModelConfig.Builder b = ModelConfig.builder(type)
                .vocabSize(128)
                .hiddenSize(64)
                .intermediateSize(160)
                .numHiddenLayers(2)
                .numAttentionHeads(4)
                .numKeyValueHeads(2)
                .maxPositionEmbeddings(2048)
                .bosTokenId(1)
                .eosTokenIds(List.of(2))
                .padTokenId(0);
        return switch (type) {
                // Llama 3: llama3 rope scaling; its bands all occur with head dim 16 and this context length.
            case LLAMA -> b.rmsNormEps(1e-5)
                    .rope(RopeConfig.llama3(500000.0, 8, 1, 4, 1024))
                    .build();
                // A sliding window shorter than typical test sequences, so that it matters.
            case MISTRAL -> b.headDim(32)
                    .rope(RopeConfig.plain(1_000_000.0))
                    .slidingWindowAllLayers(6)
                    .build();
            case QWEN2 -> b.rope(RopeConfig.plain(1_000_000.0))
                    .tieWordEmbeddings(true)
                    .build();
            case QWEN3 -> b.headDim(32)
                    .rope(RopeConfig.plain(1_000_000.0))
                    .tieWordEmbeddings(true)
                    .build();
        };
    }

    /**
     * {@code tiny} with the vocabulary and special ids of the tokenizer in {@code tokenizerDirectory}
     * (for example one {@link dev.finetune.llm.tokenizer.TinyTokenizerWriter} wrote), so that every id
     * the tokenizer makes has an embedding row.
     */
    public static ModelConfig withTokenizer(ModelConfig tiny, Path tokenizerDirectory) throws IOException {
        try (Tokenizer tokenizer = Tokenizer.load(tokenizerDirectory)) {
            var special = tokenizer.specialTokens();
            return tiny.toBuilder()
                    .vocabSize(tokenizer.vocabSize())
                    .bosTokenId(special.bos().map(SpecialToken::id).orElse(null))
                    .eosTokenIds(special.stopIds())
                    .padTokenId(special.pad().map(SpecialToken::id).orElse(null))
                    .build();
        }
    }
}
