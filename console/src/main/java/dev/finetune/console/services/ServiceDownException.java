package dev.finetune.console.services;

/** A service did not answer at all; the console shows which one instead of a stack trace. */
public class ServiceDownException extends RuntimeException {
    private final Service service;

    public ServiceDownException(Service service, String url, Exception cause) {
        super(service.displayName() + " does not answer at " + url + ": " + cause, cause);
        this.service = service;
    }

    public Service service() {
        return service;
    }
}
