package dev.finetune.llm.bench;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Device;
import dev.finetune.llm.checkpoint.ModelConfig;
import dev.finetune.llm.checkpoint.ModelType;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.tiny.TinyModels;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TrainingBenchmarkResultsTest {
    @Test
    void matmulWeightsAreEveryParameterButTheEmbeddingLookupAndNorms() {
        ModelConfig config = TinyModels.config(ModelType.LLAMA); // untied head, no biases
        long expected;
        try (CausalLm model = new CausalLm(config, Device.cpu())) {
            expected = model.namedParameters().entrySet().stream()
                    .filter(e -> !e.getKey().equals("model.embed_tokens.weight")
                            && !e.getKey().endsWith("norm.weight"))
                    .mapToLong(e -> e.getValue().shape().size())
                    .sum();
        }
        TrainingBenchmarkResults results = new TrainingBenchmarkResults("d", "m", config, 1, List.of(), null);

        assertThat(results.matmulWeights()).isEqualTo(expected);
    }

    @Test
    void tableHasOneRowPerMethodWithMfuFromTheMatmulRate() {
        ModelConfig config = TinyModels.config(ModelType.LLAMA);
        // 1 s matmul runs: the peak is matmulFlopsPerRun() FLOP/s
        Samples matmul = new Samples(new double[] {1, 1, 1});
        long n = new TrainingBenchmarkResults("d", "m", config, 1, List.of(), matmul).matmulWeights();
        double fullStep = 6.0 * n * 2 * 8 / (0.5 * TrainingBenchmarkResults.matmulFlopsPerRun());
        TrainingWorkload.Result full = new TrainingWorkload.Result(
                "full",
                123,
                2,
                8,
                new double[] {fullStep},
                100L << 20,
                300L << 20,
                1000,
                32,
                Map.of(100, 200L << 20, 1000, 201L << 20));

        String markdown = new TrainingBenchmarkResults("d", "m", config, 1, List.of(full), matmul).toMarkdown();

        assertThat(markdown)
                .contains("| full | 123 |")
                .contains("| 50% | 300 MiB |")
                .contains("| +1.0 MiB |");
    }
}
