/**
 * Rewards of generated completions for the online objectives (GRPO): rule rewards and trained reward
 * models declared in the job ({@code reward_funcs}, {@code reward_weights}, TRL's names) and their
 * weighted sum. A reward model ({@link dev.finetune.llm.rewards.ModelReward}, {@code model:<directory>})
 * scores the token sequences of {@link dev.finetune.llm.rewards.Completion#sequence()}; {@link
 * dev.finetune.llm.rewards.Rewards#load} loads it and closing the loaded rewards frees it.
 */
package dev.finetune.llm.rewards;
