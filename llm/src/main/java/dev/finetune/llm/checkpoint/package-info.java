/**
 * HuggingFace checkpoint files: config.json ({@link dev.finetune.llm.checkpoint.ModelConfigJson}),
 * memory-mapped safetensors reading (F32, F16 and BF16, widened to fp32 in Java; files over 2 GiB)
 * and writing, sharded checkpoints with {@code model.safetensors.index.json}. Every bad file ends in
 * a {@link dev.finetune.llm.checkpoint.CheckpointException} naming the file and the tensor or field.
 */
package dev.finetune.llm.checkpoint;
