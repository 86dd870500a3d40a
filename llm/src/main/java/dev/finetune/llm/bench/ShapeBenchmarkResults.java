package dev.finetune.llm.bench;

import dev.finetune.llm.checkpoint.ModelConfig;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * One run of {@code llm bench-train --shape}: its results as JSON ({@code --json}) and as a Markdown
 * section of its own per shape.
 *
 * @param checkpointBytes size of the bf16 checkpoint the children loaded
 * @param heap the children's heap option
 * @param allocator the children's native allocator
 */
record ShapeBenchmarkResults(
        String date,
        String machine,
        String shape,
        ModelConfig config,
        long parameters,
        long checkpointBytes,
        int shards,
        int warmup,
        String heap,
        ShapeBenchmark.Allocator allocator,
        List<ShapeWorkload.Result> results) {

    /**
     * The Markdown section's name: one per shape and allocator, so measuring one keeps the others'
     * tables (the memory figures under the returning allocator, a worker's step times under the default).
     */
    static String section(String shape, ShapeBenchmark.Allocator allocator) {
        String name = "training-shape-bench-" + shape.replaceAll("[^A-Za-z0-9.-]+", "_");
        return allocator == ShapeBenchmark.Allocator.RETURNING ? name : name + "-" + allocator.cliName();
    }

    /** Step peak of a configuration as a fraction of fp32 LoRA's, when both were measured. */
    Optional<Double> peakRatio(ShapeWorkload.Result result) {
        return reference().map(lora -> (double) result.stepPeakBytes() / lora.stepPeakBytes());
    }

    /** Median step time of a configuration over fp32 LoRA's, when both were measured. */
    Optional<Double> timeRatio(ShapeWorkload.Result result) {
        return reference()
                .map(lora -> new Samples(result.stepSeconds()).median() / new Samples(lora.stepSeconds()).median());
    }

    private Optional<ShapeWorkload.Result> reference() {
        return results.stream()
                .filter(r -> r.configuration().equals(ShapeConfiguration.LORA.cliName()))
                .findFirst();
    }

    String toMarkdown() {
        ModelConfig c = config;
        StringBuilder md = new StringBuilder();
        md.append(format(
                "## Training at real size: %s, %s allocator (`llm bench-train --shape %s --allocator %s`)%n%n",
                shape, allocator.cliName(), shape, allocator.cliName()));
        md.append(format("Measured %s on: %s.%n%n", date, machine));
        md.append(format(
                "Model: %s's shape with random weights, %,d parameters (hidden %d, %d layers, %d / %d heads of"
                        + " dim %d, MLP %d, vocabulary %,d, tied embeddings), written first as %d bf16 safetensors"
                        + " shard(s) (%,d MiB) and loaded through the trainer's path into each configuration's"
                        + " storage, tensor by tensor. One SFT step = forward, backward, clipping and AdamW on one"
                        + " sequence of %d random tokens (all targets), LM-head loss in chunks; LoRA r %d, alpha %d"
                        + " on all seven linears of every layer. Each configuration runs in a JVM of its own (%s,"
                        + " serial GC, %s); %d warm-up step(s), then the steps"
                        + " below. Memory is the whole process's resident size: *at rest* after the warm-up"
                        + " (optimizer state made), *step peak* over the measured steps, *load peak* while"
                        + " loading, *process peak* over the whole run.%n%n",
                shape,
                parameters,
                c.hiddenSize(),
                c.numHiddenLayers(),
                c.numAttentionHeads(),
                c.numKeyValueHeads(),
                c.headDim(),
                c.intermediateSize(),
                c.vocabSize(),
                shards,
                checkpointBytes >> 20,
                results.isEmpty() ? 0 : results.get(0).tokens(),
                ShapeWorkload.LORA_R,
                ShapeWorkload.LORA_ALPHA,
                heap,
                allocator.description,
                warmup));
        md.append("| Configuration | Step time, median (fastest .. slowest) | Tokens/s | At rest | Step peak |"
                + " Load peak | Process peak | Step peak / lora | Step time / lora |\n");
        md.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (ShapeWorkload.Result result : results) {
            Samples steps = new Samples(result.stepSeconds());
            md.append(format(
                    "| %s | %.2f s (%.2f .. %.2f) | %,.0f | %s | %s | %s | %s | %s | %s |%n",
                    result.configuration(),
                    steps.median(),
                    steps.fastest(),
                    steps.slowest(),
                    result.tokens() / steps.median(),
                    mib(result.restingBytes()),
                    mib(result.stepPeakBytes()),
                    mib(result.loadPeakBytes()),
                    mib(result.processPeakBytes()),
                    peakRatio(result).map(r -> format("%.2f", r)).orElse("-"),
                    timeRatio(result).map(r -> format("%.2f", r)).orElse("-")));
        }
        md.append(format(
                "%nReproduce: `bin/llm bench-train --shape %s --allocator %s [--methods %s] [--json FILE]`.%n",
                shape,
                allocator.cliName(),
                String.join(
                        ",",
                        results.stream()
                                .map(ShapeWorkload.Result::configuration)
                                .toList())));
        return md.toString();
    }

    private static String mib(long bytes) {
        return format("%,d MiB", bytes >> 20);
    }

    private static String format(String pattern, Object... args) {
        return String.format(Locale.ROOT, pattern, args);
    }
}
