package dev.finetune.errors;

/**
 * Marks a checked exception that describes bad input (a checkpoint, tokenizer, training file or
 * config that cannot be used) rather than a failure to reach it: llm's are {@link
 * java.io.IOException}s, so callers must handle them, but retrying cannot fix them. {@code Failures}
 * treats a failure as permanent wherever one of these stands in its cause chain, as it does an
 * {@link InvalidInputException} (the unchecked kind).
 */
public interface BadInput {}
