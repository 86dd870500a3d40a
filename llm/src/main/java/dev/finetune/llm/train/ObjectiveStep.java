package dev.finetune.llm.train;

import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import dev.finetune.llm.model.CausalLm;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * What an objective (SFT, DPO, ...) adds to the {@link TrainingLoop}: the loss of each micro-batch
 * of an optimizer step. The loop owns everything else (data order, accumulation, the update,
 * checkpoints, progress); an objective owns its encoded data and whatever state it needs besides the
 * trained weights (DPO's reference log-probabilities), which it saves into and restores from each
 * checkpoint.
 */
interface ObjectiveStep {
    /**
     * Starts optimizer step's accumulation window: the item indices of each of its micro-batches.
     * Called after the model's per-step randomness is seeded.
     */
    Window window(List<int[]> microBatches);

    /**
     * As {@link #window(List)}, knowing the optimizer step's index (0-based): for an objective whose
     * steps are not one per batch of data (PPO's several optimizer steps on each batch of rollouts).
     */
    default Window window(int step, List<int[]> microBatches) {
        return window(microBatches);
    }

    /**
     * The objective's metrics on the validation split under {@code model} as it is now, transformers'
     * names ({@code eval_loss} and, for DPO, TRL's {@code eval_rewards/accuracies}...). Runs without
     * gradients, in batches each in its own NDScope; the loop turns dropout off around it.
     */
    Map<String, Double> evaluate(CausalLm model);

    /** Writes the objective's own state into a checkpoint directory; returns the file names. */
    default List<String> save(Path directory) throws IOException {
        return List.of();
    }

    /** Restores what {@link #save} wrote (when a run resumes from {@code directory}). */
    default void restore(Path directory) throws IOException {}

    /** One optimizer step's micro-batches. */
    @FunctionalInterface
    interface Window {
        /**
         * Micro-batch {@code index} of the window, made ready outside the gradient scope (padding,
         * forward passes that need no gradient such as a reference model's).
         */
        MicroBatch microBatch(int index);

        /**
         * How many micro-batches the step has, given the {@code planned} count of the plan's step: that,
         * unless the objective batches otherwise (PPO's mini-batches of its rollouts).
         */
        default int microBatchCount(int planned) {
            return planned;
        }

        /**
         * The loss the step reports, given the sum of what its micro-batches' {@link MicroBatch#loss}
         * came to (each already divided by the window's normaliser, so the sum is the window's mean).
         */
        default double loss(double accumulated) {
            return accumulated;
        }

        /** Objective-specific means over the window, TRL's names, after its last micro-batch. */
        default Map<String, Double> metrics() {
            return Map.of();
        }
    }

    /** One micro-batch of a window. */
    interface MicroBatch {
        /**
         * The forward and backward passes: back-propagates this micro-batch's loss divided by the
         * window's normaliser and returns that value. Runs inside {@code collector} and an NDScope,
         * so every array made in {@code manager} is freed when the micro-batch is done.
         */
        double backward(CausalLm model, NDManager manager, GradientCollector collector);

        /** Real (non-padding) input tokens, for tokens per second. */
        int tokens();
    }
}
