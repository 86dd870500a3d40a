package dev.finetune.llm.objective;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.training.GradientCollector;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.model.TrainingPass;

/**
 * The supervised fine-tuning loss: negative log-likelihood of the target tokens, everything else
 * (prompt, padding) masked out. Returned as a sum, so the caller divides by the number of target
 * tokens of the whole accumulation window: accumulated micro-batches then give the gradient of one
 * big batch's mean, as transformers computes it since it fixed gradient accumulation.
 *
 * <p>Dimension letters: B batch, T time, V vocabulary.
 */
public final class SftLoss {
    private SftLoss() {}

    /**
     * {@code log p(x_{t+1} | x_<=t)} for every position [B, T-1].
     *
     * @param logits [B, T, V]
     * @param inputIds [B, T] int64
     */
    public static NDArray nextTokenLogProbs(NDArray logits, NDArray inputIds) {
        NDArray logProbs = logits.get(new NDIndex(":, :-1, :")).logSoftmax(2); // [B, T-1, V]
        NDArray next = inputIds.get(new NDIndex(":, 1:")).expandDims(2); // [B, T-1, 1]
        return logProbs.gather(next, 2).squeeze(2); // [B, T-1, 1] -> [B, T-1]
    }

    /**
     * Sum of {@code -log p} over the target tokens of a batch, a scalar with gradient. Arrays are
     * created in {@code manager}, which must stay open until the backward pass is done.
     */
    public static NDArray negativeLogLikelihoodSum(NDArray logits, SftBatch batch, NDManager manager) {
        NDArray inputIds = manager.create(batch.ids()); // [B, T]
        NDArray lossMask = manager.create(batch.lossMask()); // [B, T-1]
        return nextTokenLogProbs(logits, inputIds).mul(lossMask).sum().neg();
    }

    /**
     * One micro-batch's forward and backward passes: back-propagates its NLL sum divided by the
     * target tokens of the whole accumulation window, with the LM head in chunks of rows (the logits
     * [B, T, V] never exist whole), and returns that loss. Call inside {@code collector}; arrays are
     * created in {@code manager} (and the caller's NDScope).
     *
     * @param windowTargets target tokens of every micro-batch of the optimizer step, at least 1
     */
    public static double backward(
            CausalLm model,
            SftBatch batch,
            int windowTargets,
            ChunkedLmHead head,
            NDManager manager,
            GradientCollector collector) {
        NDArray inputIds = manager.create(batch.ids()); // [B, T]
        TrainingPass pass = batch.trainingForward(model, inputIds, manager);
        // d loss / d log p = -mask / N: the loss is linear in the log-probabilities, so one pass does.
        float perTarget = -1f / Math.max(1, windowTargets);
        float[][] lossMask = batch.lossMask();
        float[][] weights = new float[lossMask.length][];
        for (int b = 0; b < lossMask.length; b++) {
            weights[b] = new float[lossMask[b].length];
            for (int t = 0; t < weights[b].length; t++) {
                weights[b][t] = lossMask[b][t] * perTarget;
            }
        }
        double loss = head.backward(model, pass.hidden(), inputIds, manager.create(weights), collector);
        pass.backward(collector);
        return loss;
    }

    /**
     * The loss of one micro-batch from its whole logits [B, T, V]: its NLL sum divided by the target tokens of the
     * whole accumulation window.
     *
     * @param windowTargets target tokens of every micro-batch of the optimizer step, at least 1
     */
    public static NDArray windowMean(NDArray logits, SftBatch batch, int windowTargets, NDManager manager) {
        NDArray denominator = manager.create((float) Math.max(1, windowTargets)); // an array: see Attention.scale
        return negativeLogLikelihoodSum(logits, batch, manager).div(denominator);
    }
}
