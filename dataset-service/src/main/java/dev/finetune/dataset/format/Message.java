package dev.finetune.dataset.format;

/**
 * One turn of a conversation in canonical form.
 *
 * @param role {@code system}, {@code user} or {@code assistant}
 * @param content the text, normalised (see {@link dev.finetune.dataset.clean.TextNormalizer})
 */
public record Message(String role, String content) {}
