/**
 * Quantised storage of frozen base weights: {@link dev.finetune.llm.quant.BaseStorage} says how the
 * decoder linears are kept ({@code base_dtype}: fp32, int8 or nf4), {@link
 * dev.finetune.llm.quant.Int8} (per-row absmax, bitsandbytes' {@code Int8Params} storage without
 * outlier decomposition) and {@link dev.finetune.llm.quant.Nf4} (QLoRA's 4-bit NormalFloat, blocks of
 * 64, optional double quantisation) quantise in Java, streaming a checkpoint's tensor a chunk at a
 * time, and {@link dev.finetune.llm.quant.Int8Linear} and {@link dev.finetune.llm.quant.Nf4Linear}
 * keep only codes and scales in the engine, dequantising when the layer computes.
 */
package dev.finetune.llm.quant;
