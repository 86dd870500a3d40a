/**
 * The outside world's formats for adapters: PEFT's adapter directory ({@link
 * dev.finetune.llm.peft.PeftAdapter}: adapter_config.json + adapter_model.safetensors, loadable by
 * {@code PeftModel.from_pretrained}) and a merged full HuggingFace checkpoint ({@link
 * dev.finetune.llm.peft.MergedCheckpoint}). Every bad file ends in a CheckpointException naming the
 * file and the key or tensor.
 */
package dev.finetune.llm.peft;
