package dev.finetune.cli.run;

import dev.finetune.llm.optim.ScheduleType;
import dev.finetune.llm.settings.SettingValues;
import dev.finetune.llm.settings.Settings;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code finetune run}: the whole pipeline on this machine, from an upstream dataset event to a
 * registered, evaluated adapter, then everything it started is stopped.
 */
@Command(
        name = "run",
        mixinStandardHelpOptions = true,
        header = "Runs the pipeline locally: dataset event in, evaluated and registered adapter out.",
        description = {
            "Starts a real Kafka broker and S3 server, the four services (built from this repository),"
                    + " seeds a tiny base model, publishes the example dataset as an upstream system would"
                    + " and follows it through preparation, training, evaluation and registration.",
            "Exit codes: 0 done; 10 start, 11 base model, 12 submit, 13 preparation, 14 training,"
                    + " 15 evaluation, 16 registration, 17 trace."
        })
public final class RunCommand implements Callable<Integer> {
    /**
     * 25 epochs of the example's 175-odd training examples, 8 a step: about 550 steps, which teach a
     * 128-wide, 2-layer random model's LoRA adapter the example's answers for held-out questions.
     */
    static final int DEMO_EPOCHS = 25;

    static final double DEMO_LEARNING_RATE = 0.002;

    @Option(
            names = "--dataset",
            paramLabel = "FILE",
            description = "JSONL dataset (default examples/data/support-assistant.jsonl).")
    Path dataset;

    @Option(
            names = "--dataset-name",
            paramLabel = "NAME",
            defaultValue = "support-assistant",
            description = "Dataset name (default ${DEFAULT-VALUE}).")
    String datasetName;

    @Option(
            names = "--base-model",
            paramLabel = "NAME",
            defaultValue = "tiny-chat",
            description = "Name of the generated base model (default ${DEFAULT-VALUE}).")
    String baseModel;

    @Option(
            names = "--hidden",
            paramLabel = "C",
            defaultValue = "128",
            description = "Base model hidden size (default ${DEFAULT-VALUE}).")
    int hidden;

    @Option(
            names = "--layers",
            paramLabel = "L",
            defaultValue = "2",
            description = "Base model layers (default ${DEFAULT-VALUE}).")
    int layers;

    @Option(
            names = "--epochs",
            paramLabel = "N",
            defaultValue = "" + DEMO_EPOCHS,
            description = "Training epochs (default ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--max-steps", paramLabel = "N", description = "Stop after N optimizer steps (overrides --epochs).")
    Integer maxSteps;

    @Option(
            names = "--learning-rate",
            paramLabel = "LR",
            defaultValue = "" + DEMO_LEARNING_RATE,
            description = "LoRA learning rate (default ${DEFAULT-VALUE}).")
    double learningRate;

    @Option(
            names = "--timeout",
            paramLabel = "DURATION",
            defaultValue = "PT30M",
            description = "Give up after this long (ISO-8601, default ${DEFAULT-VALUE}).")
    Duration timeout;

    @Option(
            names = "--work-dir",
            paramLabel = "DIR",
            description = "Logs, work files and the stack's data (default target/finetune-run); a directory an"
                    + " earlier run made is emptied first, any other must be new or empty.")
    Path workDir;

    @Option(
            names = "--keep",
            description = "After the run, keep the stack, the services and the web console running (their URLs"
                    + " and the run's API key are printed) until Ctrl-C.")
    boolean keep;

    private final PrintStream out = System.out;

    @Override
    public Integer call() throws IOException {
        Path home = home();
        Path work = (workDir != null ? workDir : home.resolve("target/finetune-run"))
                .toAbsolutePath()
                .normalize();
        PipelineFlow.Settings settings = settings(home);
        if (!Files.isRegularFile(settings.datasetFile())) {
            throw new IllegalArgumentException("--dataset: no such file: " + settings.datasetFile());
        }
        LocalPipeline.requireBuilt(home);
        RunDirectory.prepare(work);
        String apiKey = HexFormat.of().formatHex(new SecureRandom().generateSeed(16));
        LocalPipeline pipeline = new LocalPipeline(new LocalPipeline.Options(home, work, apiKey, Map.of()));
        AtomicBoolean signalled = new AtomicBoolean();
        Thread onSignal = new Thread(
                () -> {
                    signalled.set(true);
                    pipeline.close();
                },
                "stop-pipeline");
        Runtime.getRuntime().addShutdownHook(onSignal);
        long started = System.nanoTime();
        try {
            pipeline.start(out::println);
            new PipelineFlow(pipeline, settings, out).run(work);
            out.printf(
                    "done in %d s: logs in %s%n", (System.nanoTime() - started) / 1_000_000_000L, work.resolve("logs"));
            if (keep) {
                keepRunning(pipeline, apiKey);
            }
            return 0;
        } catch (StageFailedException e) {
            return signalled.get() ? stopped() : failed(e, pipeline, work);
        } catch (RuntimeException | IOException e) {
            return signalled.get()
                    ? stopped()
                    : failed(new StageFailedException(Stage.START, String.valueOf(e.getMessage()), e), pipeline, work);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return stopped();
        } finally {
            stop(pipeline, onSignal);
        }
    }

    /**
     * Leaves everything running for a person to look at: the console's address and the run's key (an
     * admin key of this run only, made up for it) are printed, and Ctrl-C stops everything.
     */
    private void keepRunning(LocalPipeline pipeline, String apiKey) throws InterruptedException {
        out.println("console: " + pipeline.consoleUrl() + " (sign in with the run's API key: " + apiKey + ")");
        out.println("services: " + pipeline.services().training().base() + " (training), "
                + pipeline.services().datasets().base() + " (datasets), "
                + pipeline.services().eval().base()
                + " (eval), " + pipeline.services().registry().base() + " (registry)");
        out.println("running until Ctrl-C");
        new java.util.concurrent.CountDownLatch(1).await(); // the shutdown hook stops everything
    }

    /** Stops what the run started, unless the shutdown hook is already doing it. */
    private static void stop(LocalPipeline pipeline, Thread onSignal) {
        try {
            Runtime.getRuntime().removeShutdownHook(onSignal);
        } catch (IllegalStateException shuttingDown) {
            return; // the hook runs (or ran) pipeline.close()
        }
        System.err.println("stopping the services (gracefully, up to 30 s) and the local stack...");
        try {
            pipeline.close();
        } catch (RuntimeException e) {
            System.err.println("warning: " + e.getMessage());
        }
    }

    private int stopped() {
        System.err.println("stopped: everything the run started is being shut down");
        return Stage.INTERRUPTED_EXIT_CODE;
    }

    PipelineFlow.Settings settings(Path home) {
        SettingValues demo = demoTraining(learningRate, epochs);
        if (maxSteps != null) {
            demo = demo.with(Settings.MAX_STEPS, maxSteps);
        }
        Map<String, Object> hyperparameters = demo.toPlainMap();
        List<String> size =
                new ArrayList<>(List.of("--hidden", String.valueOf(hidden), "--layers", String.valueOf(layers)));
        return new PipelineFlow.Settings(
                dataset != null ? dataset.toAbsolutePath() : home.resolve("examples/data/support-assistant.jsonl"),
                datasetName,
                baseModel,
                size,
                hyperparameters,
                timeout);
    }

    /** The demo's LoRA SFT settings; the end-to-end test trains with them too. */
    static SettingValues demoTraining(double learningRate, int epochs) {
        return SettingValues.none()
                .with(Settings.LEARNING_RATE, learningRate)
                .with(Settings.NUM_TRAIN_EPOCHS, (double) epochs)
                .with(Settings.PER_DEVICE_TRAIN_BATCH_SIZE, 8)
                .with(Settings.WARMUP_STEPS, 5)
                .with(Settings.LR_SCHEDULER_TYPE, ScheduleType.COSINE)
                .with(Settings.LORA_R, 16)
                .with(Settings.LORA_ALPHA, 32.0)
                .with(Settings.LORA_TARGET_MODULES, List.of("all-linear"))
                .with(Settings.MAX_SEQ_LENGTH, 128)
                .with(Settings.SAVE_STEPS, 200);
    }

    private int failed(StageFailedException e, LocalPipeline pipeline, Path work) {
        System.err.println();
        System.err.println("FAILED: " + e.getMessage());
        System.err.println("last lines of each service's log:");
        System.err.println(pipeline.logTails(8));
        System.err.println("logs: " + work.resolve("logs"));
        return e.stage().exitCode();
    }

    /** The repository root: where bin/finetune says, else the current directory. */
    static Path home() {
        return Path.of(System.getProperty("finetune.home", "."))
                .toAbsolutePath()
                .normalize();
    }
}
