package dev.finetune.console.session;

/** A page was asked for without a live session: the browser is sent to the sign-in page. */
public class NotSignedInException extends RuntimeException {
    public NotSignedInException() {
        super("not signed in");
    }
}
