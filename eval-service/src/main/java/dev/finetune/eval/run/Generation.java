package dev.finetune.eval.run;

import dev.finetune.eval.metrics.ExactMatch;
import dev.finetune.eval.metrics.Rouge;
import dev.finetune.eval.metrics.TokenF1;

/**
 * One greedy generation on the test split with its scores.
 *
 * @param prompt the prompt as the chat template rendered it
 * @param reference the dataset's answer
 * @param generated the model's answer, decoded without special tokens
 * @param exactMatch 1 or 0 after SQuAD normalisation
 * @param tokenF1 SQuAD's token F1
 * @param rouge1 ROUGE-1 F-measure (rouge-score's)
 * @param rouge2 ROUGE-2 F-measure
 * @param rougeL ROUGE-L F-measure
 */
public record Generation(
        String prompt,
        String reference,
        String generated,
        double exactMatch,
        double tokenF1,
        double rouge1,
        double rouge2,
        double rougeL) {

    /** {@code generated} scored against {@code reference}. */
    public static Generation scored(String prompt, String reference, String generated) {
        Rouge.Scores rouge = Rouge.score(generated, reference);
        return new Generation(
                prompt,
                reference,
                generated,
                ExactMatch.score(generated, reference),
                TokenF1.score(generated, reference),
                rouge.rouge1(),
                rouge.rouge2(),
                rouge.rougeL());
    }
}
