package dev.finetune.service.errors;

import java.net.URI;

/**
 * The kinds of error answer the services give, each with a stable {@code type} URI (RFC 9457) that
 * clients may match on, a title that never varies between occurrences, and its HTTP status.
 */
public enum ProblemType {
    /** A value in the request (body, path or query) that breaks a rule; {@code field} says which. */
    INVALID_INPUT("invalid-input", "Invalid input", 400),
    /** A body that is not JSON, or JSON of the wrong shape; the detail names the line and column. */
    INVALID_JSON("invalid-json", "Invalid JSON", 400),
    /** A body field the endpoint does not have; the detail names the closest field it does have. */
    UNKNOWN_FIELD("unknown-field", "Unknown field", 400),
    /** No API key, or one that is not known. */
    UNAUTHORIZED("unauthorized", "Unauthorized", 401),
    /** A known key whose role is less than the call needs; {@code requiredRole} and {@code callerRole} say both. */
    FORBIDDEN("forbidden", "Forbidden", 403),
    NOT_FOUND("not-found", "Not found", 404),
    /** The request contradicts the current state of what it addresses. */
    CONFLICT("conflict", "Conflict", 409),
    PAYLOAD_TOO_LARGE("payload-too-large", "Payload too large", 413),
    /** A body in a media type the endpoint does not read (e.g. not JSON where JSON is expected). */
    UNSUPPORTED_MEDIA_TYPE("unsupported-media-type", "Unsupported media type", 415),
    /** Well-formed and valid, but the rules of the domain refuse it (e.g. a checksum that differs). */
    UNPROCESSABLE("unprocessable", "Unprocessable content", 422),
    /** A fault of the service; {@code errorId} finds the stack trace in its log. */
    INTERNAL_ERROR("internal-error", "Internal error", 500);

    /** Where the type URIs live; they identify, they need not resolve. */
    public static final String BASE = "https://finetune.dev/problems/";

    private final URI type;
    private final String title;
    private final int status;

    ProblemType(String slug, String title, int status) {
        this.type = URI.create(BASE + slug);
        this.title = title;
        this.status = status;
    }

    public URI type() {
        return type;
    }

    public String title() {
        return title;
    }

    public int status() {
        return status;
    }

    /** The type whose status is {@code status}, if one is defined for it (400 is invalid input). */
    public static java.util.Optional<ProblemType> forStatus(int status) {
        for (ProblemType t : values()) {
            if (t.status == status) {
                return java.util.Optional.of(t); // the first of a status is its general type
            }
        }
        return java.util.Optional.empty();
    }
}
