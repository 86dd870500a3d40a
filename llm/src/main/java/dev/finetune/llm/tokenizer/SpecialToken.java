package dev.finetune.llm.tokenizer;

/** A special token of a tokenizer: its text (such as {@code <|im_end|>}) and its id. */
public record SpecialToken(String content, int id) {}
