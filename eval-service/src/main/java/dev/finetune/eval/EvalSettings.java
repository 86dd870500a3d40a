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

    /** The prompt-engineering baseline every checkpoint is compared with, next to the zero-shot base. */
    PromptBaseline promptBaseline();

    /**
     * {@code pipeline.eval.prompt-baseline.*}: the base model scored once more, on the same held-out
     * examples and metrics, with a system prompt and a few worked examples from the train split put
     * before each conversation, so a report says whether fine-tuning beat what prompting gets.
     */
    interface PromptBaseline {
        /** Whether the prompted base model is scored (per base model, dataset version and these settings, cached). */
        @WithDefault("true")
        boolean enabled();

        /** Worked examples (train-split conversations) before each evaluated one; 0: the system prompt alone. */
        @WithDefault("3")
        int shots();

        /** The system prompt; an evaluated conversation's own system message is appended to it. */
        @WithDefault("Answer the way the examples do: directly and briefly.")
        String systemPrompt();

        /** How the worked examples are chosen from the train split: {@code random} (seeded) or {@code first}. */
        @WithDefault("random")
        String selection();

        /** The seed of {@code random} selection: the same seed, split and settings give the same examples. */
        @WithDefault("0")
        long seed();
    }

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

        /**
         * The checkpoint must beat the better of the zero-shot and the prompted base model by at least
         * this much on {@link #baselineMetric} (in its units; lower is better for eval_loss and
         * perplexity, higher for the others).
         */
        Optional<Double> minImprovementOverBaselines();

        /** The metric {@link #minImprovementOverBaselines} compares. */
        @WithDefault("eval_loss")
        String baselineMetric();
    }
}
