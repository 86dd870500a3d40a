package dev.finetune.llm.tokenizer;

import dev.finetune.errors.BadInput;
import java.util.Optional;

/**
 * A chat template that could not render a conversation: a syntax error, an error while
 * evaluating, or the template's own {@code raise_exception(message)} (for example "Conversation
 * roles must alternate user/assistant"). The message names the template's source (file and field)
 * and the template line.
 */
public class ChatTemplateException extends RuntimeException implements BadInput {
    private static final long serialVersionUID = 1L;

    private final String raisedMessage;

    ChatTemplateException(String message, String raisedMessage, Throwable cause) {
        super(message, cause);
        this.raisedMessage = raisedMessage;
    }

    /** The message the template passed to {@code raise_exception}, if that is what stopped it. */
    public Optional<String> raisedMessage() {
        return Optional.ofNullable(raisedMessage);
    }
}
