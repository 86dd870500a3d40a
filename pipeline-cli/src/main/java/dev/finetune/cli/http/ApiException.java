package dev.finetune.cli.http;

/** A service answered with an error status; the message names the call, the status and the service's reason. */
public final class ApiException extends RuntimeException {
    private final int status;

    public ApiException(String call, int status, String body) {
        super(call + " answered " + status + (body == null || body.isBlank() ? "" : ": " + body.strip()));
        this.status = status;
    }

    public int status() {
        return status;
    }
}
