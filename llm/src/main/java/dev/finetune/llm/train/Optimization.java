package dev.finetune.llm.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.training.GradientCollector;
import dev.finetune.llm.model.Parameter;
import dev.finetune.llm.optim.AdamW;
import dev.finetune.llm.optim.GradientClipping;
import dev.finetune.llm.optim.LearningRateSchedule;
import dev.finetune.llm.optim.LossScaler;
import java.util.List;
import java.util.Optional;
import java.util.function.ToDoubleFunction;

/**
 * One optimizer step as the recipes share it: gradients of the window's micro-batches accumulate in
 * the trainable parameters ({@link #accumulate}), then {@link #update} clips them by global norm,
 * applies AdamW at the scheduled rate and zeroes them. The optimizer state exists from construction
 * on, outside any step's scope.
 *
 * <p>With {@code fp16} a {@link LossScaler} scales the gradients of the fp16 products, and a step
 * whose gradients hold an inf or NaN is skipped as transformers' Trainer skips it: weights and AdamW's
 * moments and step count stay as they were, the gradients are zeroed, the scale is halved, and the
 * learning-rate schedule does not advance (the Trainer calls {@code lr_scheduler.step()} only when
 * {@code accelerator.optimizer_step_was_skipped} is false), while the global step does.
 */
public final class Optimization implements AutoCloseable {
    /** The step metric with the loss scale after the step (fp16 only). */
    public static final String LOSS_SCALE = "loss_scale";
    /** The step metric with the optimizer steps skipped so far for an inf or NaN gradient (fp16 only). */
    public static final String SKIPPED_STEPS = "skipped_steps";

    private final List<NDArray> arrays;
    private final AdamW optimizer;
    private final LearningRateSchedule schedule;
    private final double maxGradNorm;
    /** With fp16, the loss scaler; null without. */
    private final LossScaler scaler;
    /** Optimizer steps skipped for an inf or NaN gradient so far: the schedule is that many steps behind. */
    private int skippedSteps;

    public Optimization(TrainableModel model, TrainingArguments arguments, int totalSteps) {
        this(
                model,
                arguments,
                totalSteps,
                arguments.fp16() ? new LossScaler(model.model().manager()) : null);
    }

    /**
     * As {@link #Optimization(TrainableModel, TrainingArguments, int)} with {@code scaler} (null for
     * none) in place of torch's default one when {@code fp16} is set: a test's initial scale or growth
     * interval, which transformers does not expose as settings.
     */
    Optimization(TrainableModel model, TrainingArguments arguments, int totalSteps, LossScaler scaler) {
        this.arrays = model.parameters().values().stream().map(Parameter::array).toList();
        this.optimizer = new AdamW(
                model.parameters(),
                arguments.adamBeta1(),
                arguments.adamBeta2(),
                arguments.adamEpsilon(),
                arguments.weightDecay(),
                model.model().manager());
        this.schedule = new LearningRateSchedule(
                arguments.scheduler(), arguments.learningRate(), arguments.warmupStepsOf(totalSteps), totalSteps);
        this.maxGradNorm = arguments.maxGradNorm();
        this.scaler = scaler;
        if (scaler != null) {
            model.useFp16(scaler);
        }
    }

    /**
     * What an update did.
     *
     * @param skipped fp16 only: the step was skipped for an inf or NaN gradient
     */
    public record Update(double learningRate, double gradNorm, boolean skipped) {}

    /**
     * Runs {@code pass} (the forward and backward passes of one micro-batch, its loss already divided
     * by the window's normaliser) inside a gradient collector; gradients add up across calls. The
     * caller scopes the arrays (an NDScope around this call).
     *
     * @return the loss value {@code pass} returns
     */
    public double accumulate(ToDoubleFunction<GradientCollector> pass) {
        try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
            return pass.applyAsDouble(collector);
        }
    }

    /**
     * Clips, updates and zeroes the gradients for optimizer step {@code step} (0-based).
     *
     * @throws IllegalStateException if the gradient norm is not finite (the weights are left as they were)
     */
    public Update update(int step) {
        double rate = schedule.rate(step - skippedSteps);
        double norm = GradientClipping.globalNorm(arrays); // the one pass over every gradient
        // an inf or NaN gradient makes the norm non-finite; only then look for it element by element
        // (a finite gradient whose fp32 squares overflow is no reason to skip)
        if (scaler != null && !Double.isFinite(norm) && !scaler.allFinite(arrays)) {
            zeroNonFiniteGradients();
            scaler.update(true);
            skippedSteps++;
            return new Update(rate, norm, true); // inf or NaN, as the Trainer logs it
        }
        if (!Double.isFinite(norm)) {
            throw new IllegalStateException("the gradient norm is " + norm + " at step " + (step + 1)
                    + ": training diverged; lower learning_rate or set max_grad_norm");
        }
        GradientClipping.clip(arrays, norm, maxGradNorm);
        optimizer.update(rate);
        optimizer.zeroGradients();
        if (scaler != null) {
            scaler.update(false);
        }
        return new Update(rate, norm, false);
    }

    /** Zeroes gradients that may hold inf or NaN (subtracting a gradient from itself would keep NaN). */
    @SuppressWarnings("try")
    private void zeroNonFiniteGradients() {
        try (NDScope ignored = new NDScope()) {
            for (NDArray array : arrays) {
                array.getGradient().set(new NDIndex("..."), 0f);
            }
        }
    }

    /**
     * The fp16 state, for metrics and checkpoints: the current loss scale and the steps skipped so far;
     * empty without fp16.
     */
    public Optional<LossScaler> lossScaler() {
        return Optional.ofNullable(scaler);
    }

    /** Optimizer steps skipped so far for an inf or NaN gradient (0 without fp16). */
    public int skippedSteps() {
        return skippedSteps;
    }

    /**
     * Restores the fp16 state of a checkpoint: the scaler's scale and growth tracker and the count of
     * skipped steps.
     *
     * @throws IllegalStateException if this run has no fp16
     */
    public void restoreLossScaler(double scale, int growthTracker, int skipped) {
        if (scaler == null) {
            throw new IllegalStateException("this run does not use fp16");
        }
        if (skipped < 0) {
            throw new IllegalArgumentException("a saved count of skipped steps must be >= 0, got " + skipped);
        }
        scaler.restore(scale, growthTracker);
        skippedSteps = skipped;
    }

    public AdamW optimizer() {
        return optimizer;
    }

    public LearningRateSchedule schedule() {
        return schedule;
    }

    @Override
    public void close() {
        optimizer.close();
        if (scaler != null) {
            scaler.close();
        }
    }
}
