/**
 * Benchmarks that measure this machine rather than test behaviour; they write their results into
 * sections of a shared Markdown file ({@code docs/benchmarks.md} by default).
 */
package dev.finetune.llm.bench;
