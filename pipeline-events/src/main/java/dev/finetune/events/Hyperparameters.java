package dev.finetune.events;

import java.util.List;

/**
 * The knobs of a fine-tuning job, named as HuggingFace TRL/PEFT users know them. Every field may be
 * null, meaning "the recipe's default"; the training-service validates the values and names the
 * field of any bad one.
 *
 * @param learningRate peak learning rate after warmup
 * @param batchSize examples per optimizer micro-batch
 * @param gradientAccumulationSteps micro-batches per optimizer step
 * @param epochs passes over the training split
 * @param maxSteps stop after this many optimizer steps (overrides epochs when set)
 * @param warmupSteps steps of linear warmup from 0 to the learning rate
 * @param lrScheduler schedule after warmup: {@code constant}, {@code linear} or {@code cosine}
 * @param weightDecay AdamW decoupled weight decay
 * @param maxGradNorm global gradient-norm clipping threshold (0 disables)
 * @param maxSeqLength examples are truncated to this many tokens
 * @param loraR LoRA rank
 * @param loraAlpha LoRA alpha (scaling = alpha / r, or alpha / sqrt(r) with rsLoRA)
 * @param loraDropout dropout on the LoRA input
 * @param targetModules module names to adapt (e.g. {@code q_proj}), or {@code all-linear}
 * @param useRslora rank-stabilised LoRA scaling
 * @param dpoBeta DPO temperature beta
 * @param seed seed for initialisation, shuffling and dropout
 * @param checkpointEverySteps write a resumable checkpoint every this many steps
 */
public record Hyperparameters(
        Double learningRate,
        Integer batchSize,
        Integer gradientAccumulationSteps,
        Integer epochs,
        Integer maxSteps,
        Integer warmupSteps,
        String lrScheduler,
        Double weightDecay,
        Double maxGradNorm,
        Integer maxSeqLength,
        Integer loraR,
        Double loraAlpha,
        Double loraDropout,
        List<String> targetModules,
        Boolean useRslora,
        Double dpoBeta,
        Long seed,
        Integer checkpointEverySteps) {

    /** All defaults. */
    public static Hyperparameters defaults() {
        return new Hyperparameters(
                null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null,
                null);
    }
}
