package dev.finetune.llm.bench;

import dev.finetune.llm.checkpoint.ModelConfig;
import dev.finetune.llm.train.Method;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One run of {@link TrainingBenchmark} and its Markdown rendering.
 *
 * <p>Model FLOPs per token: 6 N for full fine-tuning (forward 2 N, backward 4 N: gradients of
 * activations and of weights), 4 N + 6 n for LoRA and QLoRA (no weight gradients for the frozen base;
 * n adapter values), N the matmul weights; attention scores are not counted, nor QLoRA's
 * dequantisation (it is overhead that lowers MFU).
 */
record TrainingBenchmarkResults(
        String date,
        String machine,
        ModelConfig config,
        int warmup,
        List<TrainingWorkload.Result> results,
        Samples matmul) {

    static double matmulFlopsPerRun() {
        double n = InferenceBenchmark.MATMUL_SIZE;
        return 2 * n * n * n * InferenceBenchmark.MATMULS_PER_RUN;
    }

    /** Weights that take part in matmuls: all but the embedding lookup (untied), norms and biases. */
    long matmulWeights() {
        ModelConfig c = config;
        long attention = (long) c.hiddenSize() * c.headDim() * (2L * c.numAttentionHeads() + 2L * c.numKeyValueHeads());
        long mlp = 3L * c.hiddenSize() * c.intermediateSize();
        return c.numHiddenLayers() * (attention + mlp) + (long) c.vocabSize() * c.hiddenSize();
    }

    double flopsPerToken(TrainingWorkload.Result result) {
        double n = matmulWeights();
        return Method.parse(result.method()) == Method.FULL ? 6 * n : 4 * n + 6.0 * result.trainableValues();
    }

    String toMarkdown() {
        double peak = matmulFlopsPerRun() / matmul.median();
        StringBuilder md = new StringBuilder();
        md.append("## Training (`dev.finetune.llm.bench.TrainingBenchmark`)\n\n");
        md.append(format("Measured %s on: %s.%n%n", date, machine));
        TrainingWorkload.Result first = results.get(0);
        md.append(format(
                "Model: the inference benchmark's llama-type model (%,d matmul weights; hidden %d, %d layers,"
                        + " vocabulary %d), random weights, fp32 on the CPU. One SFT step = forward, backward,"
                        + " global-norm clipping and AdamW on %d x %d random tokens (all of them targets); the"
                        + " median of %d steps after %d warm-up steps. LoRA: r 8, alpha 16, q/k/v/o projections;"
                        + " QLoRA: the same over an NF4 base (double quantisation). MFU: model FLOPs (6 N per token"
                        + " for full fine-tuning, 4 N + 6 n for adapters; attention scores not counted) over the"
                        + " fp32 matmul rate measured here, %.1f GFLOP/s. Peak RSS is the high-water mark of each"
                        + " method's own JVM (heap limit %s), %d MiB of it the JVM and engine before the model is"
                        + " built.%n%n",
                matmulWeights(),
                config.hiddenSize(),
                config.numHiddenLayers(),
                config.vocabSize(),
                first.batch(),
                first.length(),
                first.stepSeconds().length,
                warmup,
                peak / 1e9,
                TrainingBenchmark.CHILD_HEAP,
                first.residentBeforeModel() >> 20));
        md.append("| Method | Trainable | Step time | Tokens/s | MFU | Peak RSS |\n");
        md.append("|---|---:|---:|---:|---:|---:|\n");
        for (TrainingWorkload.Result result : results) {
            Samples steps = new Samples(result.stepSeconds());
            int tokens = result.batch() * result.length();
            double mfu = flopsPerToken(result) * tokens / steps.median() / peak;
            md.append(format(
                    "| %s | %,d | %.3f s (%.3f .. %.3f) | %,.0f | %.0f%% | %,d MiB |%n",
                    result.method(),
                    result.trainableValues(),
                    steps.median(),
                    steps.fastest(),
                    steps.slowest(),
                    tokens / steps.median(),
                    100 * mfu,
                    result.peakResident() >> 20));
        }
        md.append(format(
                "%nResident memory over a long run of %,d steps of %d tokens (one sequence), sampled"
                        + " after a GC; flat means every step's arrays are freed:%n%n",
                first.longSteps(), first.longLength()));
        md.append("| Method |");
        List<Integer> sampled =
                first.residentByStep().keySet().stream().sorted().toList();
        for (int step : sampled) {
            md.append(format(" step %,d |", step));
        }
        md.append(" growth |\n|---|");
        md.append("---:|".repeat(sampled.size() + 1)).append('\n');
        for (TrainingWorkload.Result result : results) {
            Map<Integer, Long> rss = result.residentByStep();
            md.append("| ").append(result.method()).append(" |");
            for (int step : sampled) {
                md.append(format(" %,d MiB |", rss.get(step) >> 20));
            }
            long growth = rss.get(sampled.get(sampled.size() - 1)) - rss.get(sampled.get(0));
            md.append(format(" %+.1f MiB |%n", growth / 1048576.0));
        }
        md.append(format("%nReproduce: `java -Dai.djl.pytorch.num_threads=2 -Dai.djl.pytorch.num_interop_threads=1"
                + " -cp <llm classpath> dev.finetune.llm.bench.TrainingBenchmark [--out FILE] [--batch B --length T"
                + " --steps N --long-steps N --long-length T]`.%n"));
        return md.toString();
    }

    private static String format(String pattern, Object... args) {
        return String.format(Locale.ROOT, pattern, args);
    }
}
