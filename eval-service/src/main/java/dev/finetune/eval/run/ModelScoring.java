package dev.finetune.eval.run;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import dev.finetune.eval.metrics.LabelledMetrics;
import dev.finetune.eval.metrics.MetricNames;
import dev.finetune.eval.metrics.PreferenceMetrics;
import dev.finetune.eval.metrics.TokenMetrics;
import dev.finetune.llm.inference.GenerationConfig;
import dev.finetune.llm.inference.Generator;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.objective.LabelledCompletion;
import dev.finetune.llm.objective.PreferenceScores;
import dev.finetune.llm.objective.SftBatch;
import dev.finetune.llm.objective.SftLoss;
import dev.finetune.llm.objective.TrainingSequence;
import dev.finetune.llm.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.ToDoubleFunction;

/**
 * Scores one model (a base model, or one with a checkpoint applied) on evaluation examples, without
 * gradients. Every batch runs in its own NDScope, so only Java arrays outlive a batch and memory
 * stays flat however many examples are scored.
 *
 * <p>Dimension letters: B batch, T time, V vocabulary.
 */
final class ModelScoring {
    private final CausalLm model;
    private final Tokenizer tokenizer;
    private final long padId;
    private final int batchSize;

    ModelScoring(CausalLm model, Tokenizer tokenizer, long padId, int batchSize) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.padId = padId;
        this.batchSize = batchSize;
    }

    /** Next-token loss and accuracy over the target (completion) tokens of {@code sequences}. */
    @SuppressWarnings("try")
    TokenMetrics tokenMetrics(List<TrainingSequence> sequences) {
        TokenMetrics metrics = new TokenMetrics();
        for (int start = 0; start < sequences.size(); start += batchSize) {
            SftBatch batch =
                    SftBatch.of(sequences.subList(start, Math.min(sequences.size(), start + batchSize)), padId, false);
            float[] logProbs;
            boolean[] top;
            try (NDScope ignored = new NDScope()) {
                NDManager manager = model.manager();
                NDArray ids = manager.create(batch.ids()); // [B, T]
                NDArray logits = model.forward(ids, manager.create(batch.paddingMask()), null); // [B, T, V]
                logProbs = SftLoss.nextTokenLogProbs(logits, ids).toFloatArray(); // [B, T-1]
                NDArray predicted = logits.get(new NDIndex(":, :-1, :")).argMax(2); // [B, T-1]
                top = predicted.eq(ids.get(new NDIndex(":, 1:"))).toBooleanArray(); // [B, T-1]
            }
            float[][] mask = batch.lossMask(); // [B, T-1]
            int width = mask[0].length;
            for (int b = 0; b < mask.length; b++) {
                for (int t = 0; t < width; t++) {
                    if (mask[b][t] > 0) {
                        metrics.add(Math.min(0.0, logProbs[b * width + t]), top[b * width + t]);
                    }
                }
            }
        }
        return metrics;
    }

    /** Each sequence's summed log-probability of its target (completion) tokens. */
    @SuppressWarnings("try")
    float[] completionLogProbs(List<TrainingSequence> sequences) {
        float[] sums = new float[sequences.size()];
        for (int start = 0; start < sequences.size(); start += batchSize) {
            SftBatch batch =
                    SftBatch.of(sequences.subList(start, Math.min(sequences.size(), start + batchSize)), padId, false);
            try (NDScope ignored = new NDScope()) {
                NDManager manager = model.manager();
                NDArray ids = manager.create(batch.ids()); // [B, T]
                NDArray logits = model.forward(ids, manager.create(batch.paddingMask()), null); // [B, T, V]
                float[] rows = SftLoss.nextTokenLogProbs(logits, ids) // [B, T-1]
                        .mul(manager.create(batch.lossMask()))
                        .sum(new int[] {1}) // [B]
                        .toFloatArray();
                System.arraycopy(rows, 0, sums, start, rows.length);
            }
        }
        return sums;
    }

    /**
     * Greedy continuations (KV cache) of {@code prompts}, decoded without special tokens, in the
     * prompts' order; decoded {@code batchSize} prompts at a time, batched by length.
     */
    List<String> generate(List<long[]> prompts, int maxNewTokens, Set<Long> stopTokens) {
        GenerationConfig config = GenerationConfig.greedy(maxNewTokens).withStopTokens(stopTokens);
        List<String> texts = new ArrayList<>();
        for (long[] ids : Generator.generate(model, prompts, config, batchSize)) {
            int length = ids.length > 0 && stopTokens.contains(ids[ids.length - 1]) ? ids.length - 1 : ids.length;
            texts.add(tokenizer.decode(
                    Arrays.stream(ids, 0, length).mapToInt(id -> (int) id).toArray(), true));
        }
        return texts;
    }

    /** Every metric the examples allow, and each generation with its scores. */
    Scored score(EvalExamples validation, EvalExamples test, int maxNewTokens, Set<Long> stopTokens) {
        Map<String, Double> metrics = new LinkedHashMap<>();
        TokenMetrics tokens = tokenMetrics(validation.scored());
        if (tokens.tokens() > 0) { // none for prompt-only data: only the generations are scored
            metrics.put(MetricNames.EVAL_LOSS, tokens.evalLoss());
            metrics.put(MetricNames.PERPLEXITY, tokens.perplexity());
            metrics.put(MetricNames.MEAN_TOKEN_ACCURACY, tokens.meanTokenAccuracy());
        }
        List<Generation> generations = new ArrayList<>();
        if (!test.prompts().isEmpty()) {
            List<String> outputs = generate(test.prompts(), maxNewTokens, stopTokens);
            for (int i = 0; i < outputs.size(); i++) {
                String prompt = tokenizer.decode(
                        Arrays.stream(test.prompts().get(i))
                                .mapToInt(id -> (int) id)
                                .toArray(),
                        false);
                generations.add(Generation.scored(prompt, test.references().get(i), outputs.get(i)));
            }
            metrics.put(MetricNames.EXACT_MATCH, mean(generations, Generation::exactMatch));
            metrics.put(MetricNames.TOKEN_F1, mean(generations, Generation::tokenF1));
            metrics.put(MetricNames.ROUGE_1, mean(generations, Generation::rouge1));
            metrics.put(MetricNames.ROUGE_2, mean(generations, Generation::rouge2));
            metrics.put(MetricNames.ROUGE_L, mean(generations, Generation::rougeL));
        }
        if (!validation.pairs().isEmpty()) {
            PreferenceScores scores = PreferenceScores.of(model, validation.pairs(), batchSize, padId);
            PreferenceMetrics preference = PreferenceMetrics.of(scores.chosen(), scores.rejected());
            metrics.put(MetricNames.PREFERENCE_ACCURACY, preference.accuracy());
            metrics.put(MetricNames.REWARD_MARGIN, preference.margin());
        }
        List<LabelledCompletion> labelled = validation.labelled();
        if (labelled.stream().anyMatch(LabelledCompletion::desirable)
                && labelled.stream().anyMatch(l -> !l.desirable())) {
            List<TrainingSequence> sequences = new ArrayList<>();
            boolean[] desirable = new boolean[labelled.size()];
            for (int i = 0; i < desirable.length; i++) {
                LabelledCompletion l = labelled.get(i);
                sequences.add(EvalExamples.completionSequence(l.prompt(), l.completion()));
                desirable[i] = l.desirable();
            }
            metrics.put(
                    MetricNames.REWARD_MARGIN,
                    LabelledMetrics.of(completionLogProbs(sequences), desirable).margin());
        }
        if (!validation.questions().isEmpty()) {
            MultipleChoiceAccuracy mc = multipleChoice(validation.questions());
            metrics.put(MetricNames.MC_ACCURACY, mc.accuracy());
            metrics.put(MetricNames.MC_ACCURACY_NORM, mc.normalizedAccuracy());
        }
        return new Scored(metrics, tokens.tokens(), generations);
    }

    /**
     * Multiple-choice accuracy as lm-evaluation-harness scores it: each choice's log-likelihood is
     * the sum of its tokens' log-probabilities after the question; a question counts as right when
     * its right choice has the highest one ({@code acc}), or the highest one per character of the
     * choice's text ({@code acc_norm}). A tie goes to the first choice, as numpy's argmax does.
     */
    MultipleChoiceAccuracy multipleChoice(List<EvalExamples.Question> questions) {
        List<TrainingSequence> sequences = new ArrayList<>();
        for (EvalExamples.Question q : questions) {
            for (LabelledCompletion choice : q.choices()) {
                sequences.add(EvalExamples.completionSequence(choice.prompt(), choice.completion()));
            }
        }
        float[] logLikelihoods = completionLogProbs(sequences);
        int right = 0;
        int rightNormalized = 0;
        int at = 0;
        for (EvalExamples.Question q : questions) {
            int best = 0;
            int bestNormalized = 0;
            for (int c = 1; c < q.choices().size(); c++) {
                if (logLikelihoods[at + c] > logLikelihoods[at + best]) {
                    best = c;
                }
                if (logLikelihoods[at + c] / q.texts().get(c).length()
                        > logLikelihoods[at + bestNormalized]
                                / q.texts().get(bestNormalized).length()) {
                    bestNormalized = c;
                }
            }
            right += best == q.answer() ? 1 : 0;
            rightNormalized += bestNormalized == q.answer() ? 1 : 0;
            at += q.choices().size();
        }
        return new MultipleChoiceAccuracy(
                (double) right / questions.size(), (double) rightNormalized / questions.size());
    }

    /** {@code acc} and {@code acc_norm} over a set of questions. */
    record MultipleChoiceAccuracy(double accuracy, double normalizedAccuracy) {}

    private static double mean(List<Generation> generations, ToDoubleFunction<Generation> score) {
        return generations.stream().mapToDouble(score).average().orElse(0);
    }

    /** A model's metrics, the number of completion tokens scored, and its generations. */
    record Scored(Map<String, Double> metrics, long scoredTokens, List<Generation> generations) {}
}
