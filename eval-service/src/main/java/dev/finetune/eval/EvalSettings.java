package dev.finetune.eval;

import io.quarkus.runtime.configuration.MemorySize;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.nio.file.Path;
import java.util.Optional;

/** {@code pipeline.eval.*}: how much is evaluated, and the pass/fail gates. */
@ConfigMapping(prefix = "pipeline.eval")
public interface EvalSettings {
    /** Local disk for base models (cached across evaluations), datasets and checkpoints. */
    @WithDefault("${java.io.tmpdir}/finetune-eval")
    Path workDir();

    /** Validation examples scored for loss, token accuracy and preference metrics: ~1 min on a CPU. */
    @WithDefault("200")
    int maxExamples();

    /** Test examples generated for exact match and ROUGE-L: generation dominates the cost. */
    @WithDefault("50")
    int maxGenerationExamples();

    /** Tokens per example (prompt + answer); longer examples keep their start, as in training. */
    @WithDefault("1024")
    int maxTokens();

    /** Greedy decoding stops after this many new tokens if no stop token came first. */
    @WithDefault("128")
    int maxNewTokens();

    /** Sequences per forward pass: large enough to use the matmul units, small enough for CPU memory. */
    @WithDefault("8")
    int batchSize();

    /**
     * How the decoder-layer linears of the scored models are stored: {@code fp32}, {@code int8} (per-row
     * absmax), {@code nf4}, or {@code auto}: the most precise of fp32, int8 and nf4 whose weights take
     * at most half of {@link #memoryLimit} (the other half is for the runtime, the logits and the
     * activations of a batch), and nf4 for a qlora checkpoint (scored as it was trained). The base
     * model is scored under the same storage, so the comparison measures the checkpoint alone. An
     * evaluation whose weights alone exceed the memory limit ends with an error naming both numbers.
     */
    @WithDefault("auto")
    String baseDtype();

    /** The memory this instance may use; unset: the container's limit (the pod's), else the machine's. */
    Optional<MemorySize> memoryLimit();

    /** Generations copied into the report's {@code samples} (every generation is in {@code generations}). */
    @WithDefault("5")
    int sampleGenerations();

    /** Gates applied to every checkpoint; an absent gate is not applied. */
    Gates gates();

    interface Gates {
        /** eval_loss must be at most this times the base model's (0.98: at least 2% lower). */
        Optional<Double> maxEvalLossRatio();

        /** eval_loss must be at least this much below the base model's (in nats per token). */
        Optional<Double> minEvalLossImprovement();

        /** exact_match on the test split must be at least this (0..1). */
        Optional<Double> minExactMatch();

        /** rouge_l on the test split must be at least this (0..1). */
        Optional<Double> minRougeL();

        /** preference_accuracy must be at least this (0..1); applies to preference data only. */
        Optional<Double> minPreferenceAccuracy();
    }
}
