package dev.finetune.llm.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import java.util.Collection;

/**
 * Dynamic loss scaling for fp16 training, as {@code torch.amp.GradScaler} with the defaults
 * transformers' Trainer (through accelerate) uses: gradients are multiplied by the scale where they
 * enter fp16 arithmetic, so that small fp16 gradients do not underflow; a step whose gradients hold
 * an inf or NaN is skipped (the caller leaves weights and optimizer state alone) and the scale is
 * multiplied by {@link #BACKOFF_FACTOR}; after {@link #GROWTH_INTERVAL} steps in a row without one it
 * is multiplied by {@link #GROWTH_FACTOR} ({@link #update}).
 *
 * <p>Where the scale applies. torch multiplies the loss by the scale before backward and divides the
 * fp32 gradients by it before clipping ({@code unscale_}), so every gradient in between, fp16 or
 * fp32, carries the scale. Here the loss and the fp32 parts of backward are unscaled, and each fp16
 * product multiplies the gradient it receives by the scale ({@link #scaleGradient} on its fp32
 * output) and divides the gradient it sends on by it ({@link #unscaleGradient} on its fp32 input).
 * The fp16 products see exactly torch's scaled gradients (an overflow there becomes an inf that
 * reaches the parameters' gradients, as in torch), and since the scale is a power of two the fp32
 * results are the same numbers as torch's after {@code unscale_}. It is done this way because the
 * engine's objectives back-propagate in several chained passes (chunked LM head, checkpointed
 * layers), where a scaled loss would have to be tracked through each; the fp16 products are the one
 * place that needs it.
 *
 * <p>The scale is kept both as a Java number (for the metrics and checkpoints) and as arrays of
 * shape [1] created once in a child of the optimizer's manager, which the gradient path multiplies
 * by: a Java scalar there would be freed while autograd still needs it.
 */
public final class LossScaler implements AutoCloseable {
    /** torch's {@code init_scale}: 2^16. */
    public static final double INIT_SCALE = 65536.0;
    /** torch's {@code growth_factor}. */
    public static final double GROWTH_FACTOR = 2.0;
    /** torch's {@code backoff_factor}. */
    public static final double BACKOFF_FACTOR = 0.5;
    /** torch's {@code growth_interval}: clean steps before the scale doubles. */
    public static final int GROWTH_INTERVAL = 2000;

    private final int growthInterval;
    private final NDManager manager;
    private final NDArray scaleArray;
    private final NDArray inverseArray;
    private double scale;
    private int growthTracker;

    /** A scaler with torch's defaults, its array in a child of {@code manager}. */
    public LossScaler(NDManager manager) {
        this(INIT_SCALE, GROWTH_INTERVAL, manager);
    }

    /**
     * @param initScale the first scale (torch's 2^16 unless a test needs another)
     * @param growthInterval clean steps before the scale doubles (torch's 2000; transformers does not
     *     expose it, so it is not a setting)
     */
    public LossScaler(double initScale, int growthInterval, NDManager manager) {
        if (!(initScale > 0) || Double.isInfinite(initScale)) {
            throw new IllegalArgumentException("the initial loss scale must be a positive number, got " + initScale);
        }
        if (growthInterval < 1) {
            throw new IllegalArgumentException("growth_interval must be >= 1, got " + growthInterval);
        }
        this.growthInterval = growthInterval;
        this.manager = manager.newSubManager();
        this.scaleArray = this.manager.create(new float[] {(float) initScale}); // [1]
        this.inverseArray = this.manager.create(new float[] {(float) (1.0 / initScale)}); // [1]
        setScale(initScale);
    }

    /**
     * {@code x} unchanged, whose gradient is multiplied by the scale in backward: {@code x s -
     * stop(x s) + stop(x)}, exact in forward (the first two terms cancel to zero exactly). Put on the
     * fp32 output of a fp16 product, so the product's backward receives the scaled gradient.
     */
    public NDArray scaleGradient(NDArray x) {
        return scaled(x, scaleArray);
    }

    /** As {@link #scaleGradient} with the reciprocal: put on the fp32 input of a fp16 product. */
    public NDArray unscaleGradient(NDArray x) {
        return scaled(x, inverseArray);
    }

    private static NDArray scaled(NDArray x, NDArray factor) {
        NDArray product = x.mul(factor); // [...] * [1]
        return product.sub(product.stopGradient()).add(x.stopGradient());
    }

    /**
     * Whether every gradient of {@code parameters} is finite (torch's {@code found_inf}, which
     * {@code unscale_} computes). The gradients themselves are already unscaled (see the class
     * comment). Costs one engine-to-Java copy per parameter; {@code Optimization} asks only when the
     * global gradient norm is not finite.
     */
    @SuppressWarnings("try")
    public boolean allFinite(Collection<NDArray> parameters) {
        try (NDScope ignored = new NDScope()) {
            for (NDArray parameter : parameters) {
                NDArray gradient = parameter.getGradient();
                if (gradient.isInfinite().any().getBoolean()
                        || gradient.isNaN().any().getBoolean()) {
                    return false;
                }
            }
        }
        return true;
    }

    /**
     * torch's {@code GradScaler.update}: after a step with an inf or NaN gradient the scale times
     * {@link #BACKOFF_FACTOR} and the count of clean steps restarts; after a clean step the count
     * grows, and at the growth interval the scale times {@link #GROWTH_FACTOR} (kept only if finite in
     * fp32, as torch's kernel does) and the count restarts.
     */
    public void update(boolean foundInf) {
        if (foundInf) {
            setScale(scale * BACKOFF_FACTOR);
            growthTracker = 0;
            return;
        }
        growthTracker++;
        if (growthTracker == growthInterval) {
            double grown = scale * GROWTH_FACTOR;
            if (Float.isFinite((float) grown)) {
                setScale(grown);
            }
            growthTracker = 0;
        }
    }

    /** The current scale. */
    public double scale() {
        return scale;
    }

    /** Clean steps since the scale last changed (or an overflow), torch's {@code _growth_tracker}. */
    public int growthTracker() {
        return growthTracker;
    }

    public int growthInterval() {
        return growthInterval;
    }

    /**
     * Restores a saved state (torch's {@code load_state_dict}: scale and growth tracker).
     *
     * @throws IllegalArgumentException if the values cannot be a scaler's
     */
    public void restore(double savedScale, int savedGrowthTracker) {
        if (!(savedScale > 0) || Double.isInfinite(savedScale)) {
            throw new IllegalArgumentException("a saved loss scale must be a positive number, got " + savedScale);
        }
        if (savedGrowthTracker < 0 || savedGrowthTracker >= growthInterval) {
            throw new IllegalArgumentException(
                    "a saved growth tracker must be in [0, " + growthInterval + "), got " + savedGrowthTracker);
        }
        setScale(savedScale);
        growthTracker = savedGrowthTracker;
    }

    private void setScale(double value) {
        scale = (float) value; // torch keeps the scale as a float32 tensor; powers of two stay exact
        scaleArray.set(new float[] {(float) value});
        inverseArray.set(new float[] {(float) (1.0 / value)});
    }

    @Override
    public void close() {
        manager.close();
    }
}
