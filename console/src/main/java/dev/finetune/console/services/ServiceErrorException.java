package dev.finetune.console.services;

/**
 * A service answered a request with an error: its problem details' {@code detail} (and {@code field},
 * when one input was wrong), so the page can show the service's own words next to that input.
 */
public class ServiceErrorException extends RuntimeException {
    private final Service service;
    private final int status;
    private final String field;

    public ServiceErrorException(Service service, int status, String detail, String field) {
        super(detail);
        this.service = service;
        this.status = status;
        this.field = field;
    }

    public Service service() {
        return service;
    }

    public int status() {
        return status;
    }

    /** The input the service named as wrong, or null. */
    public String field() {
        return field;
    }
}
