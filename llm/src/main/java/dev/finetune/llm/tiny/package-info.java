/**
 * Randomly initialised (seeded) models of every supported type in HuggingFace layout, for tests and
 * local runs, since weights are never downloaded.
 */
package dev.finetune.llm.tiny;
