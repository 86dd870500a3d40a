package dev.finetune.llm.objective;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.model.GradientMode;
import dev.finetune.llm.model.TrainingPass;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * B generated completions, each after its prompt, as one right-padded block of rows. {@code
 * completionMask} [B, T-1] is 1 where token t+1 is a generated token: the positions whose
 * log-probabilities the GRPO loss reads.
 *
 * <p>Dimension letters: B completions, T time.
 */
public record GrpoBatch(long[][] ids, long[][] paddingMask, float[][] completionMask, int[] completionLengths) {

    /** Row i is {@code prompts.get(i)} then {@code completions.get(i)} (non-empty), padded with {@code padId}. */
    public static GrpoBatch of(List<long[]> prompts, List<long[]> completions, long padId) {
        if (prompts.isEmpty() || prompts.size() != completions.size()) {
            throw new IllegalArgumentException(
                    "a batch needs one prompt per completion, got " + prompts.size() + " and " + completions.size());
        }
        int rows = prompts.size();
        int length = 0;
        for (int i = 0; i < rows; i++) {
            length = Math.max(length, prompts.get(i).length + completions.get(i).length);
        }
        long[][] ids = new long[rows][length];
        long[][] mask = new long[rows][length];
        float[][] completion = new float[rows][length - 1];
        int[] lengths = new int[rows];
        for (int i = 0; i < rows; i++) {
            long[] prompt = prompts.get(i);
            long[] generated = completions.get(i);
            if (generated.length == 0) {
                throw new IllegalArgumentException("completion " + i + " is empty");
            }
            Arrays.fill(ids[i], padId);
            System.arraycopy(prompt, 0, ids[i], 0, prompt.length);
            System.arraycopy(generated, 0, ids[i], prompt.length, generated.length);
            int end = prompt.length + generated.length;
            Arrays.fill(mask[i], 0, end, 1L);
            // prediction t (of token t + 1) is a completion token for t + 1 in [prompt.length, end)
            Arrays.fill(completion[i], prompt.length - 1, end - 1, 1f);
            lengths[i] = generated.length;
        }
        return new GrpoBatch(ids, mask, completion, lengths);
    }

    public int rows() {
        return ids.length;
    }

    /** Real (non-padding) tokens, prompts included. */
    public int tokenCount() {
        return Arrays.stream(paddingMask)
                .mapToInt(row -> (int) Arrays.stream(row).sum())
                .sum();
    }

    /** The mean of {@code perPosition} [B * (T-1)] over the completion tokens ({@link #completionMask}). */
    public double completionMean(float[] perPosition) {
        double sum = 0;
        long count = 0;
        int width = completionMask[0].length;
        for (int row = 0; row < completionMask.length; row++) {
            for (int t = 0; t < width; t++) {
                if (completionMask[row][t] != 0) {
                    sum += perPosition[row * width + t];
                    count++;
                }
            }
        }
        return sum / Math.max(1, count);
    }

    /** {@link #completionMask} in {@code manager} [B, T-1]. */
    public NDArray mask(NDManager manager) {
        return manager.create(completionMask);
    }

    /**
     * {@code log p(x_{t+1} | x_<=t)} of every position [B, T-1] under {@code model} at the sampling
     * temperature, without gradient (the reference's, or the policy's before an update); read it through
     * {@link #completionMask}.
     *
     * @param inverseTemperature 1 / the sampling temperature, a scalar array: TRL's GRPO divides the
     *     logits by the temperature for every log-probability it compares, {@code logits / T = W (h / T)}
     *     (the head has no bias)
     */
    @SuppressWarnings("try")
    public NDArray tokenLogProbs(CausalLm model, NDArray inverseTemperature, NDManager manager) {
        try (GradientMode.Paused paused = GradientMode.pause()) {
            NDArray inputIds = manager.create(ids); // [B, T]
            NDArray hidden = model.body().forward(inputIds, manager.create(paddingMask), null); // [B, T, C]
            return ChunkedLmHead.defaults().logProbs(model, hidden.mul(inverseTemperature), inputIds); // [B, T-1]
        }
    }

    /**
     * The training forward and backward passes of a loss of the token log-probabilities at the sampling
     * temperature: scores them without recording (chunked), back-propagates {@code loss} to each of
     * them, then that gradient through the LM head (chunked again), the temperature and the layers, as
     * {@link PreferenceBatch#backward} does for sequence sums. Call inside {@code collector}; arrays are
     * made in {@code manager}.
     *
     * @param inverseTemperature 1 / the sampling temperature, a scalar array (see {@link #tokenLogProbs})
     * @param loss from the token log-probabilities [B, T-1] (a leaf with gradient) to the scalar to
     *     back-propagate
     * @param entropies unless null, given the entropy of every position's next-token distribution [B,
     *     T-1] at the temperature under the training forward pass, without gradient ({@link
     *     ChunkedLmHead#entropies}), as TRL computes it from the same tempered logits
     * @return that scalar's value
     */
    public double backward(
            CausalLm model,
            ChunkedLmHead head,
            NDArray inverseTemperature,
            NDManager manager,
            GradientCollector collector,
            Function<NDArray, NDArray> loss,
            Consumer<NDArray> entropies) {
        NDArray inputIds = manager.create(ids); // [B, T]
        TrainingPass pass = model.trainingForward(inputIds, manager.create(paddingMask));
        NDArray tempered = pass.hidden().mul(inverseTemperature); // [B, T, C], recorded: the gradient goes on to hidden
        if (entropies != null) {
            entropies.accept(head.entropies(model, tempered)); // [B, T-1]
        }
        NDArray tokens = head.logProbs(model, tempered, inputIds); // [B, T-1]
        tokens.setRequiresGradient(true); // a leaf: the loss's gradient with respect to each log-probability
        NDArray value = loss.apply(tokens);
        collector.backward(value);
        NDArray tokenWeights = tokens.getGradient().mul(manager.create(completionMask)); // [B, T-1]
        head.backward(model, tempered, inputIds, tokenWeights, collector);
        pass.backward(collector);
        return value.getFloat();
    }
}
