/**
 * NF4 quantisation of frozen base weights for QLoRA: {@link dev.finetune.llm.quant.Nf4} quantises in
 * Java (blocks of 64, optional double quantisation of the scales), {@link
 * dev.finetune.llm.quant.Nf4Linear} keeps only the packed codes and scales in the engine and
 * dequantises on each forward pass. Enabled through {@code LoraConfig.quantizeBase}.
 */
package dev.finetune.llm.quant;
