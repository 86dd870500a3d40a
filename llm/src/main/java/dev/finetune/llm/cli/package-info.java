/**
 * The {@code llm} command line ({@link dev.finetune.llm.cli.LlmCli}): {@code init-tiny} writes a
 * random model in HuggingFace layout, {@code generate} streams a continuation of a prompt or chat,
 * {@code score} prints per-token log-probabilities as JSON, {@code bench} runs
 * {@link dev.finetune.llm.bench.InferenceBenchmark}. {@code generate} and {@code score} take
 * {@code --adapter DIR}, a PEFT LoRA adapter applied to the {@code --model} weights. Bad flags,
 * values and input files exit with code 2 and a message naming them.
 */
package dev.finetune.llm.cli;
