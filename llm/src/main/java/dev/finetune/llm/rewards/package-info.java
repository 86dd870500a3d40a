/**
 * Rewards of generated completions for the online objectives (GRPO): rule rewards declared in the job
 * ({@code reward_funcs}, {@code reward_weights}, TRL's names) and their weighted sum. A learned reward
 * model plugs in as one more {@link dev.finetune.llm.rewards.RewardFunction}: it scores the token
 * sequences of {@link dev.finetune.llm.rewards.Completion#sequence()}.
 */
package dev.finetune.llm.rewards;
