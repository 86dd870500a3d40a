package dev.finetune.eval.run;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import dev.finetune.llm.inference.GenerationConfig;
import dev.finetune.llm.inference.Generator;
import dev.finetune.llm.lora.Adapters;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.objective.SftBatch;
import dev.finetune.llm.objective.SftLoss;
import dev.finetune.llm.objective.TrainingSequence;
import dev.finetune.llm.rewards.Completion;
import dev.finetune.llm.rewards.Rewards;
import dev.finetune.llm.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Scores a policy (a GRPO or PPO checkpoint) as its job rewarded it, on held-out prompts:
 *
 * <ul>
 *   <li>{@code reward}: the mean, over the prompts, of the job's reward ({@code reward_funcs} weighted by
 *       {@code reward_weights}, {@link Rewards}) of the policy's greedy answer;
 *   <li>{@code kl}: the policy's KL divergence from its reference (the base model: the same weights with
 *       the adapters off, as in training), the mean over every completion token of the policy's greedy
 *       answers of TRL GRPO's k3 estimator {@code exp(r) - r - 1} with {@code r = log p_ref(token) - log
 *       p_policy(token)}. k3 is an unbiased estimate of KL(policy || reference) for tokens sampled from
 *       the policy, never negative and of lower variance than k1 = {@code -r}; on greedy answers it is a
 *       measure of how far the policy moved where it answers, not an exact KL;
 *   <li>the base model's {@code reward}: the mean reward of the reference's own greedy answers to the
 *       same prompts, so the two rewards compare directly.
 * </ul>
 *
 * Every batch runs in its own NDScope. Dimension letters: B batch, T time, V vocabulary.
 */
final class PolicyRewards {
    private final Tokenizer tokenizer;
    private final long padId;
    private final int batchSize;
    private final GenerationConfig greedy;

    PolicyRewards(Tokenizer tokenizer, long padId, int batchSize, int maxNewTokens, Set<Long> stopTokens) {
        this.tokenizer = tokenizer;
        this.padId = padId;
        this.batchSize = batchSize;
        this.greedy = GenerationConfig.greedy(maxNewTokens).withStopTokens(stopTokens);
    }

    /**
     * How the reference is asked: the policy with its adapters switched off, or a model of its own.
     *
     * @param activation makes {@code model} the reference until the returned handle is closed
     */
    record Reference(CausalLm model, Supplier<AutoCloseable> activation) {
        /** The policy itself with its adapters off while the reference is asked. */
        static Reference adaptersOff(CausalLm policy, Adapters adapters) {
            return new Reference(policy, adapters::disabled);
        }

        /** A separately loaded model (the base of a full fine-tune); nothing to switch. */
        static Reference separate(CausalLm model) {
            return new Reference(model, () -> () -> {});
        }

        AutoCloseable activate() {
            return activation.get();
        }
    }

    /**
     * @param reward the policy's mean reward
     * @param kl the mean per-token k3 estimate of KL(policy || reference) on the policy's answers
     * @param completionTokens the policy's answer tokens the KL is averaged over
     * @param baseReward the reference's mean reward on its own answers
     */
    record Result(double reward, double kl, long completionTokens, double baseReward) {}

    Result score(CausalLm policy, Reference reference, Rewards rewards, List<long[]> prompts, List<String> references)
            throws Exception {
        List<long[]> answers = Generator.generate(policy, prompts, greedy, batchSize);
        double reward = meanReward(rewards, prompts, answers, references);
        List<TrainingSequence> sequences = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) {
            sequences.add(EvalExamples.completionSequence(prompts.get(i), answers.get(i)));
        }
        double klSum = 0;
        long tokens = 0;
        for (int start = 0; start < sequences.size(); start += batchSize) {
            SftBatch batch =
                    SftBatch.of(sequences.subList(start, Math.min(sequences.size(), start + batchSize)), padId, false);
            float[] policyLogProbs = logProbs(policy, batch);
            float[] referenceLogProbs;
            try (AutoCloseable asReference = reference.activate()) {
                referenceLogProbs = logProbs(reference.model(), batch);
            }
            float[][] mask = batch.lossMask(); // [B, T-1]: the answer's tokens
            int width = mask[0].length;
            for (int b = 0; b < mask.length; b++) {
                for (int t = 0; t < width; t++) {
                    if (mask[b][t] > 0) {
                        double r = (double) referenceLogProbs[b * width + t] - policyLogProbs[b * width + t];
                        klSum += Math.expm1(r) - r; // k3 = exp(r) - 1 - r
                        tokens++;
                    }
                }
            }
        }
        List<long[]> baseAnswers;
        try (AutoCloseable asReference = reference.activate()) {
            baseAnswers = Generator.generate(reference.model(), prompts, greedy, batchSize);
        }
        double baseReward = meanReward(rewards, prompts, baseAnswers, references);
        return new Result(reward, tokens == 0 ? 0 : klSum / tokens, tokens, baseReward);
    }

    /** Each answer's log-probability under {@code model}, per position: [B * (T-1)]. */
    @SuppressWarnings("try")
    private static float[] logProbs(CausalLm model, SftBatch batch) {
        try (NDScope ignored = new NDScope()) {
            NDManager manager = model.manager();
            NDArray ids = manager.create(batch.ids()); // [B, T]
            NDArray logits = model.forward(ids, manager.create(batch.paddingMask()), null); // [B, T, V]
            return SftLoss.nextTokenLogProbs(logits, ids).toFloatArray(); // [B, T-1]
        }
    }

    private double meanReward(Rewards rewards, List<long[]> prompts, List<long[]> answers, List<String> references) {
        List<Completion> completions = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) {
            long[] answer = answers.get(i);
            int length = answer.length > 0 && greedy.stopTokens().contains(answer[answer.length - 1])
                    ? answer.length - 1
                    : answer.length;
            String text = tokenizer.decode(
                    Arrays.stream(answer, 0, length).mapToInt(id -> (int) id).toArray(), true);
            completions.add(new Completion(prompts.get(i), answer, text, Optional.ofNullable(references.get(i))));
        }
        return Arrays.stream(rewards.score(completions).total()).average().orElse(0);
    }
}
