package dev.finetune.console.pages;

/** A download of a file the version does not list (404): a mistyped link, or a path made up to escape it. */
class UnknownFileException extends RuntimeException {
    UnknownFileException(String message) {
        super(message);
    }
}
