/**
 * The outside world's formats for adapters: PEFT's adapter directory ({@link
 * dev.finetune.llm.peft.PeftAdapter}: adapter_config.json + adapter_model.safetensors, loadable by
 * {@code PeftModel.from_pretrained}) and a merged full HuggingFace checkpoint: from a model in memory
 * ({@link dev.finetune.llm.peft.MergedCheckpoint}) or streamed tensor by tensor from the base
 * checkpoint on disk in its own dtype ({@link dev.finetune.llm.peft.StreamedMerge}). Every bad file
 * ends in a CheckpointException naming the file and the key or tensor.
 */
package dev.finetune.llm.peft;
