/**
 * The Llama-family decoder (llama, mistral, qwen2, qwen3) on DJL's PyTorch engine, one concept per
 * block. Module paths are HuggingFace's weight names, so {@code model.layers.0.self_attn.q_proj.weight}
 * in a checkpoint is the parameter at that path. Compute is fp32; forward passes create their
 * temporaries in the caller's NDScope.
 */
package dev.finetune.llm.model;
