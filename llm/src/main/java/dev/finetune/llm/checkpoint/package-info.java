/**
 * HuggingFace checkpoint files: config.json ({@link dev.finetune.llm.checkpoint.ModelConfigJson}),
 * safetensors reading a block at a time (F32, F16 and BF16, widened to fp32 in Java; files of any
 * size; whole tensors or element ranges, so a model streams tensor by tensor) and writing, sharded
 * checkpoints with {@code model.safetensors.index.json}. Every bad file ends in a {@link
 * dev.finetune.llm.checkpoint.CheckpointException} naming the file and the tensor or field.
 */
package dev.finetune.llm.checkpoint;
