/**
 * Fine-tuning runs: the recipes ({@link dev.finetune.llm.train.SftRecipe}, {@link
 * dev.finetune.llm.train.PreferenceRecipe}, made by {@link dev.finetune.llm.train.Recipes#create}) with
 * their shared lifecycle (setup, train, saveCheckpoint, cleanup) and one training loop ({@code
 * TrainingLoop}) that each objective plugs a step function into ({@code ObjectiveStep}: the loss of
 * a micro-batch), the job config ({@link dev.finetune.llm.train.TrainConfig}, loaded from YAML by {@link
 * dev.finetune.llm.train.TrainConfigYaml}), progress reporting ({@link
 * dev.finetune.llm.train.TrainingListener}), atomic resumable checkpoints, and the {@code train}
 * command. The components the recipes share: {@link dev.finetune.llm.train.TrainableModel} (what is
 * trained: every weight, or LoRA / QLoRA adapters), {@link dev.finetune.llm.train.Optimization}
 * (accumulation, clipping, AdamW, schedule) and {@link dev.finetune.llm.train.BatchPlan} (seeded data
 * order).
 */
package dev.finetune.llm.train;
