/**
 * Running a model: batched logits and log-probability scoring ({@link dev.finetune.llm.inference.Scorer})
 * and generation with a KV cache ({@link dev.finetune.llm.inference.Generator}), which can hand each token
 * to a {@link dev.finetune.llm.inference.TokenListener} as it is sampled. Every call scopes its engine
 * memory, so repeated calls keep native memory flat.
 */
package dev.finetune.llm.inference;
