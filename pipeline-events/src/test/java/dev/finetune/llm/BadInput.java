package dev.finetune.llm;

/**
 * Stands for the {@code llm} library's marker of bad-input exceptions, which {@code Failures}
 * matches by name (pipeline-events does not depend on llm).
 */
public interface BadInput {}
