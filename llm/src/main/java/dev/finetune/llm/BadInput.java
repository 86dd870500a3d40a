package dev.finetune.llm;

/**
 * Marks an exception that describes bad input (a checkpoint, tokenizer, training file or config
 * that cannot be used) rather than a failure to reach it. Several of them are {@link
 * java.io.IOException}s, so callers must handle them, but retrying cannot fix them: the pipeline's
 * retry rules ({@code dev.finetune.errors.Failures}) treat a failure as permanent wherever one of
 * these stands in its cause chain. This library does not depend on the pipeline's modules, so they
 * recognise this interface by its name; keep the name and package.
 */
public interface BadInput {}
