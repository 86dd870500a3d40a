package dev.finetune.llm.train;

import dev.finetune.events.Objective;
import dev.finetune.llm.inference.GenerationConfig;
import dev.finetune.llm.inference.Generator;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.model.GradientMode;
import dev.finetune.llm.objective.ChatEncoder;
import dev.finetune.llm.objective.GrpoLoss;
import dev.finetune.llm.rewards.Completion;
import dev.finetune.llm.rewards.Rewards;
import dev.finetune.llm.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One step's sampled completions with their rewards and advantages: G completions per prompt, prompt
 * i's j-th at i G + j, generated with the KV cache (a prompt's G share its prefill), without
 * gradients, and scored by the job's rewards.
 *
 * @param prompts each completion's prompt tokens
 * @param completions the generated tokens, the stop token last if one ended it
 * @param rewards each completion's weighted reward and each function's scores
 * @param advantages each completion's group-normalised advantage ({@link GrpoLoss#advantages})
 * @param groupSize G
 */
record Rollouts(
        List<long[]> prompts, List<long[]> completions, Rewards.Scores rewards, double[] advantages, int groupSize) {

    /** A prompt to sample for: its tokens (generation prompt included) and its reference answer, if any. */
    record Prompt(long[] tokens, Optional<String> reference) {

        /**
         * The prompts of {@code file} (GRPO's and PPO's data), rendered with the generation prompt and cut
         * to {@code maxPromptLength}; refused at the first line without a reference if one of {@code
         * rewards} compares with references.
         */
        static List<Prompt> read(ChatEncoder encoder, Path file, Rewards rewards, int maxPromptLength)
                throws IOException {
            List<Prompt> encoded = new ArrayList<>();
            for (ChatDatasets.Prompt prompt : ChatDatasets.prompts(file)) {
                if (rewards.needsReference() && prompt.reference().isEmpty()) {
                    throw new DatasetException(
                            file,
                            prompt.line(),
                            "reward_funcs has exact_match, which compares each"
                                    + " completion with its prompt's 'reference', and this prompt has none");
                }
                encoded.add(new Prompt(encoder.generationPrompt(prompt.prompt(), maxPromptLength), prompt.reference()));
            }
            return encoded;
        }

        /** What a checkpoint of a run over {@code prompts} for {@code objective} is checked against on resume. */
        static String fingerprint(Objective objective, List<Prompt> prompts) {
            DataFingerprint fingerprint = new DataFingerprint().add(objective.code());
            for (Prompt prompt : prompts) {
                fingerprint.add(prompt.tokens()).add(prompt.reference().orElse(""));
            }
            return fingerprint.hex();
        }
    }

    /**
     * Samples G completions of each of {@code prompts} with {@code generation} (which says G and the
     * seed) and scores them.
     *
     * @param batchSize prompts per generation batch
     */
    @SuppressWarnings("try")
    static Rollouts sample(
            CausalLm model,
            Tokenizer tokenizer,
            List<Prompt> prompts,
            GenerationConfig generation,
            int batchSize,
            Rewards rewardFunctions,
            boolean scaleRewards) {
        int g = generation.numReturnSequences();
        List<long[]> completions;
        try (GradientMode.Paused paused = GradientMode.pause()) {
            completions = Generator.generate(
                    model, prompts.stream().map(Prompt::tokens).toList(), generation, batchSize);
        }
        List<long[]> promptOfCompletion = new ArrayList<>();
        List<Completion> scored = new ArrayList<>();
        for (int r = 0; r < completions.size(); r++) {
            Prompt prompt = prompts.get(r / g);
            long[] completion = completions.get(r);
            String text = tokenizer.decode(
                    Arrays.stream(completion).mapToInt(id -> (int) id).toArray(), true);
            promptOfCompletion.add(prompt.tokens());
            scored.add(new Completion(prompt.tokens(), completion, text, prompt.reference()));
        }
        Rewards.Scores rewards = rewardFunctions.score(scored);
        double[] advantages = GrpoLoss.advantages(rewards.total(), g, scaleRewards);
        return new Rollouts(promptOfCompletion, completions, rewards, advantages, g);
    }

    int size() {
        return completions.size();
    }

    /** Completion tokens of all completions. */
    int tokens() {
        return completions.stream().mapToInt(c -> c.length).sum();
    }

    /**
     * TRL's names for what the rewards were: {@code reward} (mean), {@code reward_std} (the groups' mean
     * standard deviation), {@code frac_reward_zero_std} (groups whose completions all scored alike, which
     * teach nothing), {@code rewards/<function>/mean} and {@code completion_length} (mean tokens).
     */
    Map<String, Double> metrics() {
        double[] total = rewards.total();
        int groups = total.length / groupSize;
        double stdSum = 0;
        int zeroStd = 0;
        for (int start = 0; start < total.length; start += groupSize) {
            double std = GrpoLoss.std(total, start, groupSize, GrpoLoss.mean(total, start, groupSize));
            stdSum += std;
            zeroStd += std < 1e-9 ? 1 : 0;
        }
        Map<String, Double> metrics = new LinkedHashMap<>();
        metrics.put("reward", GrpoLoss.mean(total, 0, total.length));
        metrics.put("reward_std", stdSum / groups);
        metrics.put("frac_reward_zero_std", (double) zeroStd / groups);
        rewards.perFunction()
                .forEach((name, scores) ->
                        metrics.put("rewards/" + name + "/mean", GrpoLoss.mean(scores, 0, scores.length)));
        metrics.put("completion_length", (double) tokens() / size());
        return metrics;
    }
}
