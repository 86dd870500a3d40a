/**
 * Training objectives: turning conversations into token sequences with trained positions ({@link
 * dev.finetune.llm.objective.ChatEncoder}), batching and packing them, and the losses: supervised
 * fine-tuning on the assistant's tokens ({@link dev.finetune.llm.objective.SftLoss}) and direct
 * preference optimisation ({@link dev.finetune.llm.objective.DpoLoss}).
 */
package dev.finetune.llm.objective;
