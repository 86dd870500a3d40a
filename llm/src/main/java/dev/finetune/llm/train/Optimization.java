package dev.finetune.llm.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.training.GradientCollector;
import dev.finetune.llm.model.Parameter;
import dev.finetune.llm.optim.AdamW;
import dev.finetune.llm.optim.GradientClipping;
import dev.finetune.llm.optim.LearningRateSchedule;
import java.util.List;
import java.util.function.ToDoubleFunction;

/**
 * One optimizer step as the recipes share it: gradients of the window's micro-batches accumulate in
 * the trainable parameters ({@link #accumulate}), then {@link #update} clips them by global norm,
 * applies AdamW at the scheduled rate and zeroes them. The optimizer state exists from construction
 * on, outside any step's scope.
 */
public final class Optimization implements AutoCloseable {
    private final List<NDArray> arrays;
    private final AdamW optimizer;
    private final LearningRateSchedule schedule;
    private final double maxGradNorm;

    public Optimization(TrainableModel model, TrainingArguments arguments, int totalSteps) {
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
    }

    /** What an update did. */
    public record Update(double learningRate, double gradNorm) {}

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
        double rate = schedule.rate(step);
        double norm = GradientClipping.clip(arrays, maxGradNorm);
        if (!Double.isFinite(norm)) {
            throw new IllegalStateException("the gradient norm is " + norm + " at step " + (step + 1)
                    + ": training diverged; lower learning_rate or set max_grad_norm");
        }
        optimizer.update(rate);
        optimizer.zeroGradients();
        return new Update(rate, norm);
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
    }
}
