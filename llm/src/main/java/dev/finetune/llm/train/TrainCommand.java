package dev.finetune.llm.train;

import dev.finetune.llm.cli.ProgressBar;
import dev.finetune.llm.model.Engines;
import dev.finetune.llm.settings.SettingException;
import dev.finetune.llm.settings.SettingValues;
import dev.finetune.llm.settings.Settings;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code llm train --config job.yaml}: runs the job's recipe (SFT, DPO, ORPO, KTO or reward; full, LoRA or QLoRA) with
 * a progress bar on stderr, writing checkpoints ({@code checkpoint-<step>/}) and the result ({@code
 * final/}: a PEFT adapter, or the whole model for full fine-tuning) into the job's output directory.
 * A job restarted with the same output directory resumes from its newest complete checkpoint.
 *
 * <p>Exit codes: 0 done (or stopped early with {@code --max-steps}); 2 a bad job file, dataset or
 * option (the message names it); 1 an unexpected failure.
 */
@Command(
        name = "train",
        mixinStandardHelpOptions = true,
        header = "Fine-tunes a model as a YAML job file describes.",
        description = {
            "Fine-tunes a model (SFT, DPO, ORPO, KTO or reward; full, LoRA or QLoRA) as the YAML job file describes, with a"
                    + " progress bar on stderr.",
            "Checkpoints go to <output_dir>/checkpoint-<step>/ and the result to <output_dir>/final/;"
                    + " a restarted job resumes from its newest complete checkpoint."
        })
public final class TrainCommand implements Callable<Integer> {
    /** Exit code of a bad job file, dataset or option (picocli's usage code). */
    static final int USAGE = 2;

    @Spec
    private CommandSpec spec;

    @Option(names = "--config", required = true, paramLabel = "FILE", description = "The job, YAML (see examples/).")
    private Path config;

    @Option(names = "--output-dir", paramLabel = "DIR", description = "Overrides the job's output_dir.")
    private Path outputDir;

    @Option(names = "--max-steps", paramLabel = "N", description = "Overrides max_steps (a short trial run).")
    private Integer maxSteps;

    @Option(
            names = "--set",
            paramLabel = "NAME=VALUE",
            description = "Overrides a setting of the job file by its HF/TRL name, e.g. --set learning_rate=1e-4"
                    + " (repeatable; `llm settings` lists them).")
    private List<String> assignments = new ArrayList<>();

    @Option(names = "--no-progress", description = "No progress bar (checkpoints are still announced).")
    private boolean noProgress;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        TrainConfig job;
        try {
            job = withOverrides(TrainConfigYaml.load(config));
        } catch (TrainConfigException e) {
            return usageError(err, e.getMessage());
        } catch (SettingException e) {
            return usageError(err, e.getMessage());
        }
        TrainingProgress bar = new TrainingProgress(new ProgressBar(err, "training", System.console() != null));
        TrainingListener listener = noProgress ? checkpointsOnly(bar) : bar;
        Engines.trainingThread();
        try (Recipe recipe = Recipes.create(job, listener)) {
            recipe.setup();
            out.printf(
                    Locale.ROOT,
                    "%s %s of %s: %,d trainable parameters%n",
                    job.method().configName(),
                    job.objective().code(),
                    job.model(),
                    recipe.model().trainableValues());
            out.flush();
            TrainResult result = recipe.train();
            out.printf(
                    Locale.ROOT,
                    "trained %d of %d steps%s, last loss %.4f%n",
                    result.step(),
                    result.totalSteps(),
                    result.resumedFrom() > 0 ? " (resumed at " + result.resumedFrom() + ")" : "",
                    result.loss());
            if (result.stoppedEarly()) {
                out.println("stopped early: early_stopping_patience evaluations without improvement");
            }
            if (result.bestCheckpoint() != null) {
                out.printf(
                        Locale.ROOT,
                        "best: %s (%s %.4f)%n",
                        result.bestCheckpoint(),
                        job.evaluation().metricForBestModel(),
                        result.bestMetric());
            }
            if (result.lastCheckpoint() != null) {
                out.println("checkpoint: " + result.lastCheckpoint());
            }
            if (result.output() != null) {
                out.println((job.method() == Method.FULL ? "model: " : "adapter: ") + result.output());
            }
            out.flush();
            return 0;
        } catch (DatasetException | TrainConfigException e) {
            return usageError(err, e.getMessage());
        }
    }

    private TrainConfig withOverrides(TrainConfig job) {
        TrainConfig result = job;
        if (outputDir != null) {
            result = result.withOutputDir(outputDir);
        }
        SettingValues overrides = SettingValues.readAssignments(assignments, Settings.CATALOG);
        if (maxSteps != null) {
            overrides = overrides.with(Settings.MAX_STEPS.name(), maxSteps);
        }
        return result.withSettings(result.settings().overriddenBy(overrides));
    }

    private int usageError(PrintWriter err, String message) {
        err.println(spec.qualifiedName() + ": " + message);
        err.flush();
        return USAGE;
    }

    private static TrainingListener checkpointsOnly(TrainingProgress bar) {
        return new TrainingListener() {
            @Override
            public void onStep(StepMetrics metrics) {}

            @Override
            public void onCheckpoint(int step, Path directory) {
                bar.onCheckpoint(step, directory);
            }
        };
    }
}
