package dev.finetune.eval.metrics;

import java.util.Set;

/** The metric names on the wire (EvaluationCompleted.metrics) and in reports. */
public final class MetricNames {
    public static final String EVAL_LOSS = "eval_loss";
    public static final String PERPLEXITY = "perplexity";
    public static final String MEAN_TOKEN_ACCURACY = "mean_token_accuracy";
    public static final String EXACT_MATCH = "exact_match";
    public static final String TOKEN_F1 = "token_f1";
    public static final String ROUGE_1 = "rouge_1";
    public static final String ROUGE_2 = "rouge_2";
    public static final String ROUGE_L = "rouge_l";
    public static final String PREFERENCE_ACCURACY = "preference_accuracy";
    public static final String REWARD_MARGIN = "reward_margin";
    /** A reward model's Bradley-Terry loss on held-out pairs, mean(-log sigmoid(r_chosen - r_rejected)). */
    public static final String REWARD_LOSS = "reward_loss";
    /**
     * A GRPO or PPO policy: the mean of its job's reward on its greedy answers to the held-out prompts
     * (TRL's {@code reward}); the base model's is its own answers'.
     */
    public static final String REWARD = "reward";
    /** A GRPO or PPO policy: the mean per-token k3 estimate of its KL to the base model on its answers (TRL GRPO's {@code kl}). */
    public static final String KL = "kl";
    /** Multiple choice: share of questions whose right choice has the highest log-likelihood (lm-eval's acc). */
    public static final String MC_ACCURACY = "mc_accuracy";
    /** The same with each choice's log-likelihood divided by its length in characters (lm-eval's acc_norm). */
    public static final String MC_ACCURACY_NORM = "mc_accuracy_norm";

    /** Every metric an evaluation can report. */
    public static final Set<String> ALL = Set.of(
            EVAL_LOSS,
            PERPLEXITY,
            MEAN_TOKEN_ACCURACY,
            EXACT_MATCH,
            TOKEN_F1,
            ROUGE_1,
            ROUGE_2,
            ROUGE_L,
            PREFERENCE_ACCURACY,
            REWARD_MARGIN,
            REWARD_LOSS,
            MC_ACCURACY,
            MC_ACCURACY_NORM,
            REWARD,
            KL);

    /** Metrics where a smaller value is better; for all others larger is better. */
    public static final Set<String> LOWER_IS_BETTER = Set.of(EVAL_LOSS, PERPLEXITY, REWARD_LOSS, KL);

    private MetricNames() {}
}
