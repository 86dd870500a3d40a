package dev.finetune.eval.run;

/**
 * One greedy generation on the test split with its scores.
 *
 * @param prompt the prompt as the chat template rendered it
 * @param reference the dataset's answer
 * @param generated the model's answer, decoded without special tokens
 * @param exactMatch 1 or 0 after normalisation
 * @param rougeL ROUGE-L F1 after normalisation
 */
public record Generation(String prompt, String reference, String generated, double exactMatch, double rougeL) {}
