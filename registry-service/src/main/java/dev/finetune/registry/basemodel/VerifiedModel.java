package dev.finetune.registry.basemodel;

import dev.finetune.llm.checkpoint.ModelType;

/**
 * What verifying a base model directory found.
 *
 * @param type its family
 * @param parameters its parameter count, from config.json
 */
public record VerifiedModel(ModelType type, long parameters) {}
