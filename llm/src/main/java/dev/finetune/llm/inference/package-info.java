/**
 * Running a model: batched logits and log-probability scoring ({@link dev.finetune.llm.inference.Scorer})
 * and generation with a KV cache ({@link dev.finetune.llm.inference.Generator}). Every call scopes its
 * engine memory, so repeated calls keep native memory flat.
 */
package dev.finetune.llm.inference;
