package dev.finetune.console.session;

/** A form post the console refuses (403): a wrong CSRF token, or a role that does not allow it. */
public class RefusedException extends RuntimeException {
    public RefusedException(String message) {
        super(message);
    }
}
