package dev.finetune.llm.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.events.Objective;
import dev.finetune.llm.checkpoint.DType;
import dev.finetune.llm.checkpoint.ModelConfig;
import dev.finetune.llm.lora.LoraConfig;
import dev.finetune.llm.settings.SettingValues;
import dev.finetune.llm.settings.Settings;
import dev.finetune.llm.tiny.TinyModelGenerator;
import dev.finetune.llm.tiny.TinyModels;
import dev.finetune.llm.tiny.TokenizerFiles;
import dev.finetune.llm.tokenizer.TinyTokenizerWriter;
import dev.finetune.llm.train.Method;
import dev.finetune.llm.train.Recipe;
import dev.finetune.llm.train.Recipes;
import dev.finetune.llm.train.StepMetrics;
import dev.finetune.llm.train.TrainConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.commons.io.file.PathUtils;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code llm bench-rl}: PPO and GRPO steps timed as the trainer runs them ({@code Recipes}, the same
 * path as {@code llm train} and the training-service's workers), split into the rollout (sampling the
 * completions with the batched KV-cache generator and scoring them; PPO also its values, the
 * reference's log-probabilities and the advantages) and the optimisation (forward and backward passes
 * over the completions, clipping, AdamW), from each step's {@link StepMetrics#rolloutTime()}.
 *
 * <p>The model is the inference benchmark's body (llama layout, hidden 384, 8 layers, 6 / 2 heads,
 * MLP 1152) with random weights and the tiny byte-level tokenizer's vocabulary, so rewards can decode
 * the completions; LoRA r 16 on every linear. Both objectives sample 32 completions of up to
 * {@value #DEFAULT_COMPLETION_TOKENS} tokens (by default) per rollout at temperature 1 (random weights rarely stop early),
 * scored by a {@code length} rule reward, and optimise them in micro-batches of 16: GRPO 4 prompts x 8
 * generations per step, PPO 32 prompts per rollout batch optimised by TRL's 4 PPO epochs (4 optimizer
 * steps per rollout). Results go into the {@value #SECTION} section of a Markdown file.
 */
@Command(
        name = "bench-rl",
        mixinStandardHelpOptions = true,
        header = "Times PPO and GRPO steps: rollout tokens/s and optimisation step time; writes a Markdown table.",
        description = "Runs PPO and GRPO through the trainer on the bench model's shape and reports each"
                + " rollout's tokens per second and each optimizer step's time, medians over the measured steps.")
public final class RlBenchmark implements Callable<Integer> {
    static final String SECTION = "rl-bench";
    static final int DEFAULT_COMPLETION_TOKENS = 64;
    static final int COMPLETIONS = 32;
    static final int MICRO_BATCH = 16;
    static final int GENERATIONS = 8;
    static final int PPO_EPOCHS = 4;

    @Spec
    private CommandSpec spec;

    @Option(
            names = "--out",
            paramLabel = "FILE",
            defaultValue = "docs/benchmarks.md",
            description = "Markdown file; only its rl-bench section is replaced (default ${DEFAULT-VALUE}).")
    private Path out;

    @Option(
            names = "--rollouts",
            paramLabel = "N",
            defaultValue = "4",
            description = "Measured rollouts per objective, after one unmeasured (default ${DEFAULT-VALUE}).")
    private int rollouts;

    @Option(
            names = "--completion-tokens",
            paramLabel = "N",
            defaultValue = "" + DEFAULT_COMPLETION_TOKENS,
            description = "Most tokens sampled per completion (default ${DEFAULT-VALUE}).")
    private int completionTokens;

    /** One objective's measured steps. */
    record Result(String objective, List<StepMetrics> steps, int stepsPerRollout) {
        /** The steps that sampled a rollout. */
        List<StepMetrics> rolloutSteps() {
            List<StepMetrics> sampled = new ArrayList<>();
            for (int i = 0; i < steps.size(); i++) {
                if (i % stepsPerRollout == 0) {
                    sampled.add(steps.get(i));
                }
            }
            return sampled;
        }

        Samples rolloutSeconds() {
            return new Samples(rolloutSteps().stream()
                    .mapToDouble(s -> s.rolloutTime().toNanos() / 1e9)
                    .toArray());
        }

        /** Completion tokens sampled per rollout: completions x the mean completion length, averaged. */
        double rolloutTokens() {
            return rolloutSteps().stream()
                    .mapToDouble(s -> COMPLETIONS * s.objectiveMetrics().get("completion_length"))
                    .average()
                    .orElse(0);
        }

        Samples optimisationSeconds() {
            return new Samples(steps.stream()
                    .mapToDouble(s -> (s.stepTime().toNanos() - s.rolloutTime().toNanos()) / 1e9)
                    .toArray());
        }
    }

    @Override
    public Integer call() throws Exception {
        if (rollouts < 1 || completionTokens < 2) {
            throw new CommandLine.ParameterException(
                    spec.commandLine(),
                    "--rollouts must be >= 1 and --completion-tokens >= 2, got " + rollouts + " and "
                            + completionTokens);
        }
        PrintWriter log = spec.commandLine().getOut();
        String date = ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'"));
        Path work = Files.createTempDirectory("bench-rl");
        try {
            Path model = work.resolve("model");
            ModelConfig config = writeModel(model);
            Path prompts = writePrompts(work.resolve("prompts.jsonl"));
            List<Result> results = List.of(
                    run(Objective.GRPO, 1, model, prompts, work.resolve("grpo"), log),
                    run(Objective.PPO, PPO_EPOCHS, model, prompts, work.resolve("ppo"), log));
            String section = markdown(date, config, results);
            new MarkdownSection(SECTION).write(out, "Benchmarks", section);
            log.println();
            log.println(section);
            log.println("Wrote the " + SECTION + " section of " + out.toAbsolutePath());
            return 0;
        } finally {
            PathUtils.deleteDirectory(work);
        }
    }

    private Result run(Objective objective, int stepsPerRollout, Path model, Path prompts, Path output, PrintWriter log)
            throws IOException {
        int total = (rollouts + 1) * stepsPerRollout;
        SettingValues settings = SettingValues.none()
                .with(Settings.LORA_TARGET_MODULES, List.of(LoraConfig.ALL_LINEAR))
                .with(Settings.LORA_R, 16)
                .with(Settings.LORA_ALPHA, 32.0)
                .with(Settings.LORA_DROPOUT, 0.0)
                .with(Settings.REWARD_FUNCS, List.of("length:" + completionTokens / 2))
                .with(Settings.PER_DEVICE_TRAIN_BATCH_SIZE, MICRO_BATCH)
                .with(Settings.GRADIENT_ACCUMULATION_STEPS, COMPLETIONS / MICRO_BATCH)
                .with(Settings.TEMPERATURE, 1.0)
                .with(Settings.MAX_STEPS, total)
                .with(Settings.SAVE_STEPS, 10_000_000);
        settings = objective == Objective.GRPO
                ? settings.with(Settings.NUM_GENERATIONS, GENERATIONS)
                        .with(Settings.MAX_COMPLETION_LENGTH, completionTokens)
                : settings.with(Settings.NUM_PPO_EPOCHS, PPO_EPOCHS).with(Settings.RESPONSE_LENGTH, completionTokens);
        List<StepMetrics> steps = new ArrayList<>();
        TrainConfig config = new TrainConfig(model, prompts, null, output, Method.LORA, objective, false, settings);
        try (Recipe recipe = Recipes.create(config, steps::add)) {
            recipe.setup();
            recipe.train();
        }
        Result result = new Result(
                objective.name().toLowerCase(Locale.ROOT), steps.subList(stepsPerRollout, total), stepsPerRollout);
        log.printf(
                Locale.ROOT,
                "%s: rollout %.2f s median (%.0f tokens/s), optimizer step %.2f s median%n",
                result.objective(),
                result.rolloutSeconds().median(),
                result.rolloutTokens() / result.rolloutSeconds().median(),
                result.optimisationSeconds().median());
        return result;
    }

    /** The bench model's body with the tiny tokenizer's vocabulary and special ids, fp32. */
    private static ModelConfig writeModel(Path directory) throws IOException {
        Files.createDirectories(directory);
        TinyTokenizerWriter.write(directory);
        ModelConfig config = TinyModels.withTokenizer(InferenceBenchmark.modelConfig(), directory);
        TinyModelGenerator.write(
                config,
                3,
                TinyModelGenerator.Initialization.huggingFace(config),
                DType.F32,
                TokenizerFiles.NONE,
                directory);
        return config;
    }

    /** 64 prompt-only examples, one user turn each. */
    private static Path writePrompts(Path file) throws IOException {
        ObjectMapper json = new ObjectMapper();
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            lines.add(json.writeValueAsString(
                    Map.of("prompt", "Write a short answer about the number " + (i * 37 % 101) + ", please.")));
        }
        return Files.write(file, lines);
    }

    private String markdown(String date, ModelConfig config, List<Result> results) {
        StringBuilder md = new StringBuilder("## Reinforcement learning steps (`llm bench-rl`)\n\n");
        md.append("Measured ")
                .append(date)
                .append(" on: ")
                .append(Machine.describe())
                .append(".\n\n");
        md.append(String.format(
                Locale.ROOT,
                "Model: llama layout, hidden %d, %d layers, %d / %d heads, MLP %d (the inference benchmark's body),"
                        + " vocabulary %d (the tiny byte-level tokenizer's, so rewards can decode the completions),"
                        + " random weights, fp32; LoRA r 16, alpha 32 on every linear, no dropout. Each rollout samples"
                        + " %d completions of up to %d tokens at temperature 1 with the batched KV-cache generator and"
                        + " scores them with a `length:%d` rule reward; each optimizer step runs forward and backward"
                        + " over %d completions in micro-batches of %d, then clipping and AdamW. GRPO: %d prompts x %d"
                        + " generations per step, one step per rollout; PPO: %d prompts per rollout batch, %d PPO"
                        + " epochs (%d optimizer steps per rollout), the rollout also computing the values, the"
                        + " reference's log-probabilities (adapters off) and GAE. Times are the trainer's own"
                        + " (`StepMetrics.rolloutTime` and `stepTime`); medians over %d measured rollouts after one"
                        + " unmeasured, range fastest .. slowest.%n%n",
                config.hiddenSize(),
                config.numHiddenLayers(),
                config.numAttentionHeads(),
                config.numKeyValueHeads(),
                config.intermediateSize(),
                config.vocabSize(),
                COMPLETIONS,
                completionTokens,
                completionTokens / 2,
                COMPLETIONS,
                MICRO_BATCH,
                COMPLETIONS / GENERATIONS,
                GENERATIONS,
                COMPLETIONS,
                PPO_EPOCHS,
                PPO_EPOCHS,
                rollouts));
        md.append("| Objective | Rollout time | Completion tokens per rollout | Rollout tokens/s | Optimizer step"
                + " | Optimizer steps per rollout | Rollout share of the run |\n");
        md.append("|---|---:|---:|---:|---:|---:|---:|\n");
        for (Result r : results) {
            Samples rollout = r.rolloutSeconds();
            Samples step = r.optimisationSeconds();
            double rolloutTotal = r.rolloutSteps().stream()
                    .mapToDouble(s -> s.rolloutTime().toNanos() / 1e9)
                    .sum();
            double runTotal = r.steps().stream()
                    .mapToDouble(s -> s.stepTime().toNanos() / 1e9)
                    .sum();
            md.append(String.format(
                    Locale.ROOT,
                    "| %s | %.2f s (%.2f .. %.2f) | %,.0f | %,.0f | %.2f s (%.2f .. %.2f) | %d | %.0f%% |%n",
                    r.objective(),
                    rollout.median(),
                    rollout.fastest(),
                    rollout.slowest(),
                    r.rolloutTokens(),
                    r.rolloutTokens() / rollout.median(),
                    step.median(),
                    step.fastest(),
                    step.slowest(),
                    r.stepsPerRollout(),
                    100 * rolloutTotal / runTotal));
        }
        md.append("\nReproduce: `bin/llm bench-rl [--rollouts N] [--completion-tokens N] [--out FILE]`.\n");
        return md.toString();
    }
}
