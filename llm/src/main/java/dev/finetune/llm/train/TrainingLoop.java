package dev.finetune.llm.train;

import ai.djl.ndarray.NDScope;
import dev.finetune.llm.checkpoint.ModelConfigJson;
import dev.finetune.llm.lora.LoraConfig;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.peft.AdapterConfigJson;
import dev.finetune.llm.settings.ModelBounds;
import dev.finetune.llm.settings.SettingException;
import dev.finetune.llm.settings.SettingValues;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The training loop every recipe runs; an objective only says what one micro-batch's loss is
 * ({@link ObjectiveStep}). Each optimizer step accumulates the gradients of its micro-batches, each
 * in its own NDScope (so a step's arrays are freed when it ends and memory stays flat), then updates
 * the weights; a checkpoint is written every {@code save_steps} steps and after the last one. A run
 * resumed from a checkpoint continues exactly: the data order, dropout masks and schedule are
 * functions of the step.
 *
 * <p>Lifecycle: {@link #prepare} loads the model (with init_adapter's weights, see {@link InitAdapter}), {@link #resume} attaches the objective and
 * restores the newest checkpoint, {@link #run} trains, {@link #close} frees the model.
 */
final class TrainingLoop implements AutoCloseable {
    private final TrainConfig config;
    private final TrainingArguments arguments;
    private final EvalArguments evaluation;
    private final EvalTracker evaluations;
    private final TrainingListener listener;
    private volatile boolean stopRequested;

    private TrainableModel model;
    private Optimization optimization;
    private BatchPlan plan;
    private RunCheckpoints checkpoints;
    private ObjectiveStep objective;
    private int step;
    private int resumedFrom;
    private double lastLoss = Double.NaN;
    private Path lastCheckpoint;

    TrainingLoop(TrainConfig config, TrainingListener listener) {
        this.config = config;
        this.arguments = config.training();
        this.evaluation = config.evaluation();
        this.evaluations = new EvalTracker(evaluation);
        this.listener = listener;
    }

    /**
     * Plans the run over {@code items} training items and loads the model prepared for the job's
     * method, for the objective to be built on.
     *
     * @param fingerprint of the encoded data: a checkpoint of other data is not resumed
     */
    TrainableModel prepare(int items, String fingerprint) throws IOException {
        return prepare(items, arguments.batchSize(), fingerprint, loaded -> {});
    }

    /**
     * As {@link #prepare(int, String)}, with {@code reshape} applied to the loaded model before it is
     * prepared for the method (a reward model's score head replaces the LM head there, so that it is a
     * trained parameter of full fine-tuning or one of the adapters' modules to save).
     */
    TrainableModel prepare(int items, String fingerprint, Consumer<CausalLm> reshape) throws IOException {
        return prepare(items, arguments.batchSize(), fingerprint, reshape);
    }

    private TrainableModel prepare(int items, int batchSize, String fingerprint, Consumer<CausalLm> reshape)
            throws IOException {
        return prepare(BatchPlan.of(items, batchSize, arguments), fingerprint, reshape, trainable -> {});
    }

    /**
     * As {@link #prepare(int, String)} with the objective's own {@code plan} (PPO's and GRPO's: several
     * optimizer steps per batch of prompts), and {@code extend} applied to the prepared model before the
     * optimizer is made (PPO's value head joins the trained parameters there).
     */
    TrainableModel prepare(BatchPlan plan, String fingerprint, Consumer<TrainableModel> extend) throws IOException {
        return prepare(plan, fingerprint, loaded -> {}, extend);
    }

    private TrainableModel prepare(
            BatchPlan plan, String fingerprint, Consumer<CausalLm> reshape, Consumer<TrainableModel> extend)
            throws IOException {
        this.plan = plan;
        Optional<Path> initAdapter = config.initAdapter().isPresent()
                ? Optional.of(InitAdapter.directory(config.initAdapter().get()))
                : Optional.empty();
        LoraConfig lora = initAdapter.isPresent() ? adoptedLora(initAdapter.get()) : config.lora();
        CausalLm loaded = CausalLm.load(config.model(), CausalLm.preferredDevice(), config.baseStorage());
        reshape.accept(loaded);
        model = TrainableModel.prepare(loaded, config.method(), lora, arguments.seed());
        if (initAdapter.isPresent()) {
            model.loadInitial(initAdapter.get()); // a checkpoint restored by resume() replaces these weights
        }
        model.setGradientCheckpointing(arguments.gradientCheckpointing());
        extend.accept(model);
        optimization = new Optimization(model, arguments, plan.totalSteps());
        checkpoints = new RunCheckpoints(config, model, optimization, plan, fingerprint);
        return model;
    }

    /** The adapter settings of a run that continues the adapter in {@code directory}: its config decides. */
    private LoraConfig adoptedLora(Path directory) throws IOException {
        LoraConfig saved = InitAdapter.readConfig(directory);
        List<String> linears =
                ModelBounds.linearNames(ModelConfigJson.read(config.model().resolve(ModelConfigJson.FILE_NAME)));
        try {
            SettingValues adopted = InitAdapter.adopt(
                    config.settings(),
                    saved,
                    linears,
                    directory.resolve(AdapterConfigJson.FILE_NAME).toString());
            return TrainConfig.lora(adopted, config.method());
        } catch (SettingException e) {
            throw new TrainConfigException(e.getMessage(), e);
        }
    }

    /**
     * Trains {@code objective} from here on, continuing from the newest complete checkpoint if the
     * job resumes and one exists.
     *
     * @return whether a checkpoint was restored (weights, optimizer and the objective's state)
     */
    boolean resume(ObjectiveStep objective) throws IOException {
        this.objective = objective;
        Optional<TrainerState> resumed = checkpoints.resume(objective::restore);
        resumed.ifPresent(state -> {
            evaluations.restore(state);
            step = state.globalStep();
            lastLoss = state.loss();
            lastCheckpoint = checkpoints.directoryOf(step);
        });
        resumedFrom = step;
        return resumed.isPresent();
    }

    /**
     * Runs to the last step, a stop request or early stopping, evaluating on the way as eval_strategy
     * says (before the step's checkpoint, which then records the evaluation); then exports the result
     * if the run is complete: the best checkpoint's weights with load_best_model_at_end.
     */
    TrainResult run() throws IOException {
        int total = plan.totalSteps();
        listener.onStart(step, total);
        ProgressMeter meter = new ProgressMeter(step, total);
        boolean stoppedEarly = false;
        model.setTraining(true);
        try {
            while (step < total && !stopRequested && !stoppedEarly) {
                long stepStarted = System.nanoTime();
                StepOutcome outcome = runStep(step);
                Duration stepTime = Duration.ofNanos(System.nanoTime() - stepStarted);
                if (outcome == null) {
                    break; // stopped between two micro-batches: the step is not applied
                }
                step++;
                lastLoss = outcome.loss();
                ProgressMeter.Lap lap = meter.lap(step, outcome.tokens());
                listener.onStep(new StepMetrics(
                        step,
                        total,
                        plan.epochsAfter(step),
                        lastLoss,
                        outcome.update().learningRate(),
                        outcome.update().gradNorm(),
                        lap.tokensPerSecond(),
                        lap.eta(),
                        stepTime,
                        outcome.rolloutTime(),
                        outcome.metrics()));
                boolean newBest = false;
                if (evaluation.dueAfter(step, plan)) {
                    newBest = evaluate();
                    stoppedEarly = evaluations.shouldStop();
                    if (stoppedEarly) {
                        listener.onStoppingEarly(step);
                    }
                }
                // a new best is always saved when the result is to be the best checkpoint's weights
                if (step % arguments.saveSteps() == 0
                        || step == total
                        || stoppedEarly
                        || (newBest && evaluation.loadBestModelAtEnd())) {
                    saveCheckpoint();
                    meter.resetStepClock();
                }
            }
        } finally {
            model.setTraining(false);
        }
        boolean complete = step >= total || stoppedEarly;
        Path output = null;
        if (complete) {
            loadBestModel();
            output = checkpoints.export();
        }
        Path best = evaluations.bestCheckpoint() == null ? null : Path.of(evaluations.bestCheckpoint());
        return new TrainResult(
                step,
                total,
                resumedFrom,
                lastLoss,
                lastCheckpoint,
                output,
                stoppedEarly,
                best,
                evaluations.bestMetric());
    }

    /** Evaluates the validation split with dropout off; true if metric_for_best_model is at a new best. */
    private boolean evaluate() {
        Map<String, Double> metrics;
        model.setTraining(false);
        try {
            metrics = objective.evaluate(model.model());
        } finally {
            model.setTraining(true);
        }
        boolean newBest = evaluations.record(step, plan.epochsAfter(step), metrics);
        listener.onEvaluate(step, plan.epochsAfter(step), metrics);
        return newBest;
    }

    /** With load_best_model_at_end, puts the best checkpoint's weights back into the model. */
    private void loadBestModel() throws IOException {
        Integer best = evaluations.bestStep();
        if (!evaluation.loadBestModelAtEnd() || best == null || best == step) {
            return;
        }
        Path directory = checkpoints.directoryOf(best);
        if (!TrainingCheckpoints.isComplete(directory)) {
            throw new IOException("load_best_model_at_end: the best checkpoint (step " + best + ", "
                    + evaluation.metricForBestModel() + " " + evaluations.bestMetric() + ") is missing at "
                    + directory);
        }
        model.loadTrainable(directory);
    }

    private record StepOutcome(
            double loss, Optimization.Update update, int tokens, Duration rolloutTime, Map<String, Double> metrics) {}

    /**
     * Accumulates the gradients of step {@code index}'s micro-batches, then updates the weights; null
     * if a stop was requested between two of its micro-batches (a step of many micro-batches can take
     * minutes, a cancel should not), in which case the weights are left as they were.
     */
    @SuppressWarnings("try")
    private StepOutcome runStep(int index) {
        List<int[]> microBatches = plan.microBatches(index);
        model.beginStep(arguments.seed(), index);
        long started = System.nanoTime();
        ObjectiveStep.Window window = objective.window(index, microBatches);
        Duration rolloutTime = Duration.ofNanos(System.nanoTime() - started);
        CausalLm lm = model.model();
        double loss = 0;
        int tokens = 0;
        int count = window.microBatchCount(microBatches.size());
        for (int i = 0; i < count; i++) {
            if (stopRequested) {
                return null;
            }
            ObjectiveStep.MicroBatch batch = window.microBatch(i);
            try (NDScope ignored = new NDScope()) {
                loss += optimization.accumulate(collector -> batch.backward(lm, lm.manager(), collector));
            }
            tokens += batch.tokens();
        }
        Optimization.Update update = optimization.update(index);
        return new StepOutcome(window.loss(loss), update, tokens, rolloutTime, withLossScale(window.metrics()));
    }

    /**
     * With fp16, {@code metrics} plus {@code loss_scale} (the scale after this step) and {@code
     * skipped_steps} (optimizer steps skipped so far for an inf or NaN gradient).
     */
    private Map<String, Double> withLossScale(Map<String, Double> metrics) {
        if (optimization.lossScaler().isEmpty()) {
            return metrics;
        }
        Map<String, Double> all = new LinkedHashMap<>(metrics);
        all.put(Optimization.LOSS_SCALE, optimization.lossScaler().get().scale());
        all.put(Optimization.SKIPPED_STEPS, (double) optimization.skippedSteps());
        return all;
    }

    /** Writes a resumable checkpoint of the current step, with the objective's state. */
    Path saveCheckpoint() throws IOException {
        lastCheckpoint = checkpoints.save(step, lastLoss, evaluations, objective::save);
        listener.onCheckpoint(step, lastCheckpoint);
        return lastCheckpoint;
    }

    /**
     * Asks {@link #run} to return after the micro-batch in progress, leaving a step cut short
     * unapplied; thread-safe, also before it starts.
     */
    void requestStop() {
        stopRequested = true;
    }

    /** The model, after {@link #prepare}. */
    TrainableModel model() {
        return model;
    }

    BatchPlan plan() {
        return plan;
    }

    @Override
    public void close() {
        if (optimization != null) {
            optimization.close();
        }
        if (model != null) {
            model.close();
        }
    }
}
