package dev.finetune.llm.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import dev.finetune.llm.model.Module;
import dev.finetune.llm.model.Parameter;
import dev.finetune.llm.optim.LossScaler;

/**
 * A frozen base linear computed in fp16, as {@code torch.autocast(dtype=float16)} computes a linear
 * under transformers' {@code fp16: true}: the weight (fp32, or dequantised from int8 or NF4) and the
 * bias are cast to fp16 for the product, the input is cast to fp16, and the product {@code x W^T + b}
 * and its backward {@code g W} run in fp16; the result returns to fp32 for the LoRA update that is
 * added to it. The adapter matrices, their gradients and the optimizer state stay fp32 (mixed
 * precision).
 *
 * <p>Gradients cross the casts through ops that record them, since the engine's cast ({@code toType})
 * does not: the input goes to fp16 by an indexed copy into a fp16 array (recorded, its backward casts
 * the gradient back), the output to fp32 by a product with a fp32 one of shape [1] (type promotion;
 * its backward casts the gradient to fp16). Around the fp16 product the {@link LossScaler} multiplies
 * the incoming gradient by the loss scale and divides the outgoing one by it.
 *
 * <p>Dimension letters: I input features, O output features; x is [..., I], y [..., O].
 */
public final class HalfPrecisionBase {
    private final LossScaler scaler;
    /** fp32 1 of shape [1]: {@code y16 * one} is y in fp32, with a gradient (type promotion). */
    private final NDArray one;

    public HalfPrecisionBase(LossScaler scaler, NDManager manager) {
        this.scaler = scaler;
        this.one = manager.create(new float[] {1f}); // [1]
    }

    /** {@code base(x)} [..., O] with the product in fp16; arrays in {@code x}'s manager and scope. */
    NDArray forward(Module base, NDArray x) {
        NDManager manager = x.getManager();
        NDArray weight = BaseLinear.weight(base, manager).toType(DataType.FLOAT16, false); // [O, I] fp16, frozen
        Parameter bias = BaseLinear.bias(base);
        NDArray bias16 = bias == null ? null : bias.array().toType(DataType.FLOAT16, false); // [O]
        NDArray x16 = manager.zeros(x.getShape(), DataType.FLOAT16); // [..., I]
        x16.set(new NDIndex("..."), scaler.unscaleGradient(x)); // recorded cast to fp16
        NDArray y16 = x16.getNDArrayInternal().linear(x16, weight, bias16).singletonOrThrow(); // [..., O] fp16
        return scaler.scaleGradient(y16.mul(one)); // [..., O] fp32 (promoted by the fp32 [1])
    }

    public LossScaler scaler() {
        return scaler;
    }
}
