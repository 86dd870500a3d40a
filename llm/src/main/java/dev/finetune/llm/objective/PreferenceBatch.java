package dev.finetune.llm.objective;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.training.GradientCollector;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.model.TrainingPass;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;

/**
 * B preference pairs as one right-padded block of 2B rows, the chosen sequences first and the
 * rejected ones after, so one forward pass scores both. {@code completionMask} [2B, T-1] is 1 where
 * token t+1 belongs to the completion: a sequence's log-probability is the sum over those tokens.
 *
 * <p>Dimension letters: B pairs, T time, V vocabulary.
 */
public record PreferenceBatch(long[][] ids, long[][] paddingMask, float[][] completionMask) {

    public static PreferenceBatch of(List<PreferencePair> pairs, long padId) {
        if (pairs.isEmpty()) {
            throw new IllegalArgumentException("a batch needs at least one preference pair");
        }
        List<long[]> sequences = new ArrayList<>();
        List<Integer> promptLengths = new ArrayList<>();
        for (PreferencePair pair : pairs) {
            sequences.add(pair.chosenSequence());
            promptLengths.add(pair.prompt().length);
        }
        for (PreferencePair pair : pairs) {
            sequences.add(pair.rejectedSequence());
            promptLengths.add(pair.prompt().length);
        }
        int length = sequences.stream().mapToInt(s -> s.length).max().orElseThrow();
        long[][] ids = new long[sequences.size()][length];
        long[][] mask = new long[sequences.size()][length];
        float[][] completion = new float[sequences.size()][length - 1];
        for (int row = 0; row < ids.length; row++) {
            long[] sequence = sequences.get(row);
            Arrays.fill(ids[row], padId);
            System.arraycopy(sequence, 0, ids[row], 0, sequence.length);
            Arrays.fill(mask[row], 0, sequence.length, 1L);
            // token t + 1 is a completion token for t + 1 in [promptLength, length)
            Arrays.fill(completion[row], promptLengths.get(row) - 1, sequence.length - 1, 1f);
        }
        return new PreferenceBatch(ids, mask, completion);
    }

    /** Number of pairs B. */
    public int pairs() {
        return ids.length / 2;
    }

    /** Each row's number of completion tokens [2B], chosen rows first: the sums behind a mean per token. */
    public float[] completionTokens() {
        float[] counts = new float[completionMask.length];
        for (int row = 0; row < counts.length; row++) {
            for (float m : completionMask[row]) {
                counts[row] += m;
            }
        }
        return counts;
    }

    /**
     * 1 where token t + 1 of a chosen row is a real token, prompt or completion [2B, T-1]; 0 on the
     * rejected rows and on padding. ORPO's NLL averages over these, as TRL's does.
     */
    public float[][] chosenPredictionMask() {
        float[][] mask = new float[ids.length][ids[0].length - 1];
        for (int row = 0; row < pairs(); row++) {
            int length = (int) Arrays.stream(paddingMask[row]).sum();
            Arrays.fill(mask[row], 0, length - 1, 1f);
        }
        return mask;
    }

    public int tokenCount() {
        return Arrays.stream(paddingMask)
                .mapToInt(row -> (int) Arrays.stream(row).sum())
                .sum();
    }

    /**
     * {@code log p(completion | prompt)} of every row [2B], without gradient: chosen rows [0, B),
     * rejected rows [B, 2B). The LM head runs over chunks of rows; arrays live in {@code manager}
     * (and the caller's NDScope).
     */
    public NDArray sequenceLogProbs(CausalLm model, NDManager manager) {
        NDArray inputIds = manager.create(ids); // [2B, T]
        NDArray hidden = model.body().forward(inputIds, manager.create(paddingMask), null); // [2B, T, C]
        return completionSums(ChunkedLmHead.defaults().logProbs(model, hidden, inputIds), manager);
    }

    /**
     * The training forward pass of the 2B rows up to the final hidden states (see {@link
     * CausalLm#trainingForward}), with its input ids [2B, T] created in {@code manager}.
     */
    public TrainingPass trainingForward(CausalLm model, NDArray inputIds, NDManager manager) {
        return model.trainingForward(inputIds, manager.create(paddingMask));
    }

    /**
     * The training forward and backward passes of a loss of the rows' completion log-probabilities:
     * scores them without recording (chunked), back-propagates {@code loss} to each row's sum, then
     * that gradient spread over the row's completion tokens through the LM head (chunked again) and
     * the layers. Call inside {@code collector}; arrays are made in {@code manager}.
     *
     * @param loss from the rows' sums [2B] (a leaf with gradient) to the scalar to back-propagate
     * @return that scalar's value
     */
    public double backward(
            CausalLm model,
            ChunkedLmHead head,
            NDManager manager,
            GradientCollector collector,
            Function<NDArray, NDArray> loss) {
        NDArray inputIds = manager.create(ids); // [2B, T]
        TrainingPass pass = trainingForward(model, inputIds, manager);
        NDArray rows = completionSums(head.logProbs(model, pass.hidden(), inputIds), manager); // [2B]
        rows.setRequiresGradient(true); // a leaf: the loss's gradient with respect to each row
        NDArray value = loss.apply(rows);
        collector.backward(value);
        NDArray tokenWeights = overCompletions(rows.getGradient(), manager); // [2B, T-1]
        head.backward(model, pass.hidden(), inputIds, tokenWeights, collector);
        pass.backward(collector);
        return value.getFloat();
    }

    /** Each row's sum over its completion tokens [2B] of per-prediction values [2B, T-1]. */
    public NDArray completionSums(NDArray perPrediction, NDManager manager) {
        return perPrediction.mul(manager.create(completionMask)).sum(new int[] {1}); // [2B]
    }

    /** Per-row values [2B] spread over each row's completion predictions [2B, T-1], zero elsewhere. */
    public NDArray overCompletions(NDArray perRow, NDManager manager) {
        return manager.create(completionMask).mul(perRow.expandDims(1)); // [2B, T-1] * [2B, 1]
    }

    /** The chosen half [B] of per-row values [2B]. */
    public static NDArray chosen(NDArray rows) {
        return rows.get(new NDIndex(":{}", rows.getShape().get(0) / 2)); // [B]
    }

    /** The rejected half [B] of per-row values [2B]. */
    public static NDArray rejected(NDArray rows) {
        return rows.get(new NDIndex("{}:", rows.getShape().get(0) / 2)); // [B]
    }
}
