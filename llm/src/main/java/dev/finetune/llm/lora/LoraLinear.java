package dev.finetune.llm.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import dev.finetune.llm.model.GradientMode;
import dev.finetune.llm.model.Linear;
import dev.finetune.llm.model.LinearLayer;
import dev.finetune.llm.model.LinearWeights;
import dev.finetune.llm.model.Module;
import dev.finetune.llm.model.Parameter;
import dev.finetune.llm.model.ReplayableRandomness;
import java.util.Optional;
import java.util.SplittableRandom;

/**
 * A LoRA adapter wrapping a frozen linear layer, as PEFT's {@code lora.Linear}:
 *
 * <pre>y = base(x) + B(A(dropout(x))) * scaling</pre>
 *
 * The base is kept as child {@code base_layer} (a fp32 {@link Linear}, or an int8 or NF4 linear
 * when the base is stored quantised: QLoRA is the NF4 case), the adapter matrices as children {@code lora_A} and {@code lora_B}, so the parameter
 * paths are PEFT's: {@code q_proj.base_layer.weight}, {@code q_proj.lora_A.weight} [R, I] and
 * {@code q_proj.lora_B.weight} [O, R]. A starts kaiming-uniform (a = sqrt(5)) and B at zero, so a
 * fresh adapter leaves the output exactly unchanged.
 *
 * <p>With DoRA ({@code use_dora}) the layer also has a trainable magnitude m [O], parameter {@code
 * q_proj.lora_magnitude_vector} (the name PEFT saves it under), and computes as PEFT's {@code
 * DoraLinearLayer}:
 *
 * <pre>
 * n = ||W + B A * scaling||   per output row, the L2 norm over the inputs [O], detached
 * y = base(x) + (m / n - 1) * (W x') + (m / n) * B(A(x')) * scaling,   x' = dropout(x)
 * </pre>
 *
 * m starts as n of the fresh adapter (B = 0, so m = ||W||: again the output is unchanged). n is a
 * constant for backward, as the DoRA paper (section 4.3) and PEFT have it: no gradient flows through
 * the norm, only through m and the update. {@code W x'} is the base output without its bias when
 * there is no dropout (x' = x); with dropout it is a second product with the dropped input. Over an
 * int8 or NF4 base, W is the dequantised weight (PEFT dequantises bitsandbytes weights the same way).
 * Cost per forward pass: B A [O, I] and its row norms, and over a quantised base one more
 * dequantisation of W (the base layer dequantises it for its own product too).
 *
 * <p>Dimension letters: I input features, O output features, R rank; x is [..., I], y [..., O].
 */
public final class LoraLinear extends Module implements LinearLayer, ReplayableRandomness {
    private final LinearLayer base;
    private final Linear loraA;
    private final Linear loraB;
    private final long inFeatures;
    private final long outFeatures;
    private final int rank;
    private final double scalingValue;
    /** The scaling as an array created once: a Java scalar on the gradient path is freed too early. */
    private final NDArray scaling;

    /** PEFT's name for DoRA's magnitude vector in a saved adapter ({@code <module>.lora_magnitude_vector}). */
    public static final String MAGNITUDE = "lora_magnitude_vector";

    private final AdapterMode mode;
    private final LoraDropout dropout;
    /** DoRA's magnitude m [O]; null without DoRA. */
    private final Parameter magnitude;
    /** 1 as an array created once, for DoRA's {@code m / n - 1} on the gradient path. */
    private final NDArray one;
    /** With {@code fp16}: computes the base product in fp16; null computes it as the base stores it. */
    private HalfPrecisionBase halfPrecision;

    /**
     * @param base the frozen layer, registered as {@code base_layer}; its parameters never get
     *     gradients from this class
     * @param init draws A's initial values
     * @param dropoutSeed seed of this layer's dropout masks
     */
    <L extends Module & LinearLayer> LoraLinear(
            L base,
            long inFeatures,
            long outFeatures,
            LoraConfig config,
            AdapterMode mode,
            NDManager manager,
            SplittableRandom init,
            long dropoutSeed) {
        this.base = child("base_layer", base);
        this.inFeatures = inFeatures;
        this.outFeatures = outFeatures;
        this.rank = config.r();
        this.loraA = child("lora_A", new Linear(inFeatures, rank, false));
        this.loraB = child("lora_B", new Linear(rank, outFeatures, false));
        this.scalingValue = config.scaling();
        this.scaling = manager.create((float) scalingValue);
        this.mode = mode;
        this.dropout = config.dropout() > 0 ? new LoraDropout(config.dropout(), dropoutSeed) : null;

        // PEFT: nn.init.kaiming_uniform_(lora_A.weight, a=math.sqrt(5)); nn.init.zeros_(lora_B.weight).
        // With a = sqrt(5) the gain is sqrt(2 / (1 + 5)) and the bound gain * sqrt(3 / I) = 1 / sqrt(I).
        double bound = 1 / Math.sqrt(inFeatures);
        float[] a = new float[Math.toIntExact(rank * inFeatures)];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) ((init.nextDouble() * 2 - 1) * bound);
        }
        loraA.weight().set(manager.create(a, loraA.weight().shape())); // [R, I]
        loraB.weight().set(manager.zeros(loraB.weight().shape())); // [O, R]

        if (config.useDora()) {
            // PEFT's DoraLinearLayer.update_layer: m = ||W + B A * scaling|| = ||W|| while B is zero.
            this.magnitude = parameter(MAGNITUDE, outFeatures);
            this.one = manager.create(1f);
            magnitude.set(initialMagnitude(manager));
        } else {
            this.magnitude = null;
            this.one = null;
        }
    }

    @SuppressWarnings("try")
    private NDArray initialMagnitude(NDManager manager) {
        try (NDScope ignored = new NDScope()) {
            NDArray norm = weightNorm(BaseLinear.weight((Module) base, manager)); // [O]
            NDScope.unregister(norm);
            return norm;
        }
    }

    @Override
    public NDArray forward(NDArray x) {
        NDArray y = halfPrecision == null
                ? base.forward(x) // [..., O]
                : halfPrecision.forward((Module) base, x); // [..., O], the product in fp16
        if (!mode.enabled()) {
            return y;
        }
        boolean dropped = dropout != null && mode.training();
        NDArray input = dropped ? dropout.apply(x) : x; // [..., I]
        NDArray update = loraB.forward(loraA.forward(input)); // [..., I] -> [..., R] -> [..., O]
        if (magnitude == null) {
            return y.add(update.mul(scaling));
        }
        return y.add(doraTerm(y, input, dropped, update));
    }

    /**
     * The base's arrays with this layer's update, as {@link #forward} computes when nothing is recorded:
     * {@code base(x) + B(A(x)) * scaling}. Empty when the forward pass does more than that (DoRA,
     * dropout while training, a fp16 product) or the base is not a fp32 product; the base alone when
     * the adapter is disabled.
     */
    @Override
    public Optional<LinearWeights> weights() {
        if (halfPrecision != null || magnitude != null || (dropout != null && mode.training())) {
            return Optional.empty();
        }
        Optional<LinearWeights> baseWeights = base.weights();
        if (!mode.enabled()) {
            return baseWeights;
        }
        return baseWeights.map(
                w -> w.withLowRank(loraA.weight().array(), loraB.weight().array(), scaling));
    }

    /**
     * PEFT's {@code DoraLinearLayer.forward}: {@code (m / n - 1) * W x' + (m / n) * update * scaling}
     * [..., O]. Over a quantised base the dequantised weight lives only as long as the recorded graph
     * needs it (this scope drops its handle).
     */
    @SuppressWarnings("try")
    private NDArray doraTerm(NDArray y, NDArray input, boolean dropped, NDArray update) {
        NDArray term;
        try (NDScope ignored = new NDScope()) {
            NDArray weight = BaseLinear.weight((Module) base, input.getManager()); // [O, I]
            NDArray scale = magnitude.array().div(weightNorm(weight)); // [O] / [O]
            NDArray baseResult; // W x' [..., O], no bias
            if (dropped) {
                baseResult = input.getNDArrayInternal()
                        .linear(input, weight, null)
                        .singletonOrThrow(); // [..., I] -> [..., O]
            } else {
                Parameter bias = BaseLinear.bias((Module) base);
                baseResult = bias == null ? y : y.sub(bias.array()); // [..., O] - [O]
            }
            term = scale.sub(one).mul(baseResult).add(scale.mul(update).mul(scaling)); // [O] * [..., O]
            NDScope.unregister(term);
        }
        NDScope.register(term); // the caller's scope owns the result
        return term;
    }

    /**
     * DoRA's {@code ||W + B A * scaling||} over the inputs of each output row [O], for the fp32 base
     * weight [O, I]. Computed with recording paused, so it is a constant for backward: PEFT detaches
     * it ("weight_norm.detach()", DoRA paper section 4.3).
     */
    @SuppressWarnings("try")
    private NDArray weightNorm(NDArray weight) {
        try (GradientMode.Paused paused = GradientMode.pause()) {
            NDArray direction = weight.add(deltaWeight()); // [O, I] + [O, I]
            return direction.square().sum(new int[] {1}).sqrt(); // [O, I] -> [O]
        }
    }

    /**
     * The weight [O, I] that computes what this layer computes, for a merge (PEFT's {@code merge}):
     * {@code W + B A * scaling}, and with DoRA each row of that scaled by {@code m / ||W + B A *
     * scaling||}. Created in the caller's scope; the bias is the base's, unchanged.
     *
     * @param weight the base weight [O, I] in fp32 (dequantised for a quantised base)
     */
    public NDArray mergedWeight(NDArray weight) {
        NDArray merged = weight.add(deltaWeight()); // [O, I] + [O, I]
        if (magnitude == null) {
            return merged;
        }
        NDArray factor = magnitude.array().div(weightNorm(weight)); // [O]
        return merged.mul(factor.reshape(-1, 1)); // [O, I] * [O, 1]
    }

    /**
     * The weight this layer adds to its base, {@code B A * scaling} [O, I], created in the caller's
     * scope (the manager of A when no NDScope is open).
     */
    public NDArray deltaWeight() {
        NDArray a = loraA.weight().array(); // [R, I]
        NDArray b = loraB.weight().array(); // [O, R]
        return b.matMul(a).mul(scaling); // [O, R] x [R, I] -> [O, I]
    }

    /** Computes the base product in fp16 through {@code half} from now on; null for its stored precision. */
    void setHalfPrecision(HalfPrecisionBase half) {
        this.halfPrecision = half;
    }

    /** The wrapped frozen layer (a {@link Linear}, or an int8 or NF4 linear). */
    public LinearLayer base() {
        return base;
    }

    /** {@code lora_A.weight} [R, I]. */
    public Parameter loraA() {
        return loraA.weight();
    }

    /** {@code lora_B.weight} [O, R]. */
    public Parameter loraB() {
        return loraB.weight();
    }

    /** DoRA's {@code lora_magnitude_vector} [O]; empty without DoRA. */
    public Optional<Parameter> magnitude() {
        return Optional.ofNullable(magnitude);
    }

    public long inFeatures() {
        return inFeatures;
    }

    public long outFeatures() {
        return outFeatures;
    }

    public int rank() {
        return rank;
    }

    /** {@code alpha / r}, or {@code alpha / sqrt(r)} with rsLoRA. */
    public double scaling() {
        return scalingValue;
    }

    /** How many dropout masks this layer has drawn since the step began (0 without dropout). */
    @Override
    public long randomPosition() {
        return dropout == null ? 0 : dropout.position();
    }

    /** Makes the next forward pass draw the dropout mask it drew at {@code position}. */
    @Override
    public void rewindRandom(long position) {
        if (dropout != null) {
            dropout.rewind(position);
        }
    }

    void reseedDropout(long seed) {
        if (dropout != null) {
            dropout.reseed(seed);
        }
    }
}
