package dev.finetune.llm.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.finetune.llm.model.Linear;
import dev.finetune.llm.model.LinearLayer;
import dev.finetune.llm.model.Module;
import dev.finetune.llm.model.Parameter;
import dev.finetune.llm.model.ReplayableRandomness;
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

    private final AdapterMode mode;
    private final LoraDropout dropout;

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
    }

    @Override
    public NDArray forward(NDArray x) {
        NDArray y = base.forward(x); // [..., O]
        if (!mode.enabled()) {
            return y;
        }
        NDArray input = dropout != null && mode.training() ? dropout.apply(x) : x; // [..., I]
        NDArray update = loraB.forward(loraA.forward(input)); // [..., I] -> [..., R] -> [..., O]
        return y.add(update.mul(scaling));
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
