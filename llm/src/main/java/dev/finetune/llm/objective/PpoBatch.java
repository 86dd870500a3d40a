package dev.finetune.llm.objective;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.training.GradientCollector;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.model.TrainingPass;
import dev.finetune.llm.model.ValueHead;

/**
 * A micro-batch of PPO's rollouts as it is optimised: the completions after their prompts ({@link
 * GrpoBatch}) with what the rollout recorded at each completion position [B, T-1] (0 elsewhere): the
 * log-probabilities the tokens were sampled with, the values, the whitened advantages and the returns.
 *
 * <p>Dimension letters: B completions, T time, C channels.
 */
public record PpoBatch(
        GrpoBatch rows, float[][] oldLogProbs, float[][] oldValues, float[][] advantages, float[][] returns) {

    /**
     * What a backward pass found: the loss back-propagated, and the policy's log-probabilities and the
     * values [B * (T-1)] it was computed from, for statistics.
     */
    public record Result(double loss, float[] logProbs, float[] values) {}

    /**
     * The training forward and backward passes of {@link PpoLoss#loss}: the policy's log-probabilities
     * (of the logits divided by the temperature: the hidden states times {@code inverseTemperature}, the
     * head having no bias) are scored without recording, in chunks; the loss is back-propagated to them
     * and to the value head, which reads a detached copy of the hidden states; then both gradients go on
     * through the hidden states in one pass (the graph is traversed once) and through the layers.
     *
     * @param perToken 1 / the mini-batch's completion tokens, a scalar array
     */
    public Result backward(
            CausalLm model,
            ValueHead valueHead,
            ChunkedLmHead head,
            PpoLoss loss,
            NDArray inverseTemperature,
            NDArray perToken,
            NDManager manager,
            GradientCollector collector) {
        NDArray inputIds = manager.create(rows.ids()); // [B, T]
        TrainingPass pass = model.trainingForward(inputIds, manager.create(rows.paddingMask()));
        NDArray hidden = pass.hidden(); // [B, T, C]
        NDArray tempered = hidden.mul(inverseTemperature); // [B, T, C]
        NDArray logProbs = head.logProbs(model, tempered, inputIds); // [B, T-1]
        logProbs.setRequiresGradient(true); // a leaf: the loss's gradient with respect to each log-probability
        NDArray hiddenLeaf = hidden.stopGradient(); // [B, T, C]
        hiddenLeaf.setRequiresGradient(true);
        NDArray values = valueHead.forward(hiddenLeaf).get(new NDIndex(":, :-1")); // [B, T] -> [B, T-1]
        NDArray mask = rows.mask(manager); // [B, T-1]
        NDArray value = loss.loss(
                logProbs,
                manager.create(oldLogProbs),
                manager.create(advantages),
                values,
                manager.create(oldValues),
                manager.create(returns),
                mask,
                perToken);
        collector.backward(value);
        NDArray valueGradient = hidden.mul(hiddenLeaf.getGradient()).sum(); // the value loss, on through hidden
        head.backward(model, tempered, inputIds, logProbs.getGradient().mul(mask), collector, valueGradient);
        pass.backward(collector);
        return new Result(value.getFloat(), logProbs.toFloatArray(), values.toFloatArray());
    }
}
