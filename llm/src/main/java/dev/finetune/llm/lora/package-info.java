/**
 * LoRA adapters (over an fp32, int8 or NF4 base; QLoRA is the NF4 one): {@link
 * dev.finetune.llm.lora.LoraConfig} says what to adapt, {@link dev.finetune.llm.lora.Adapters#apply}
 * wraps the target linears of a model in {@link dev.finetune.llm.lora.LoraLinear}s in place, and the
 * returned {@link dev.finetune.llm.lora.Adapters} hands out the trainable parameters by PEFT tensor
 * name and switches the adapters off for a reference model.
 */
package dev.finetune.llm.lora;
