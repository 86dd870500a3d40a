package dev.finetune.console.services;

/** A service did not answer at all; the console shows which one instead of a stack trace. */
public class ServiceDownException extends RuntimeException {
    private final Service service;

    public ServiceDownException(Service service, String url, Exception cause) {
        super(service.displayName() + " does not answer at " + url + ": " + why(cause), cause);
        this.service = service;
    }

    /** What went wrong, in words a person reads on the page (not an exception's class name). */
    private static String why(Exception cause) {
        if (cause instanceof java.net.ConnectException) {
            return "connection refused";
        }
        if (cause instanceof java.net.http.HttpTimeoutException) {
            return "no answer in time";
        }
        if (cause instanceof InterruptedException) {
            return "the console is stopping";
        }
        String message = cause.getMessage();
        return message == null || message.isBlank() ? "the connection failed" : message;
    }

    public Service service() {
        return service;
    }
}
