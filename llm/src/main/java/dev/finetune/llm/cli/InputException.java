package dev.finetune.llm.cli;

/**
 * An input the user gave (a file's content, text that tokenizes badly for the model) that the
 * command cannot use. The message names the flag, file or value; the CLI prints it and exits with
 * {@link LlmCli#USAGE}.
 */
final class InputException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    InputException(String message) {
        super(message);
    }

    InputException(String message, Throwable cause) {
        super(message, cause);
    }
}
