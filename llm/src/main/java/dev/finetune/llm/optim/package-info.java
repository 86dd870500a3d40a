/**
 * Optimisation on NDArrays: {@link dev.finetune.llm.optim.AdamW} with decoupled weight decay and
 * bias-corrected moments, learning-rate schedules with linear warmup ({@link
 * dev.finetune.llm.optim.LearningRateSchedule}) and global-norm gradient clipping ({@link
 * dev.finetune.llm.optim.GradientClipping}). Everything here runs outside the gradient collector,
 * on leaves whose gradients a backward pass has filled.
 */
package dev.finetune.llm.optim;
