package dev.finetune.service.errors;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.exc.StreamReadException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import dev.finetune.errors.InvalidInputException;
import dev.finetune.errors.UnknownProperty;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.MediaType;
import java.util.Optional;

/**
 * How a failure reads as problem details: the classification behind {@link ProblemMappers}, kept
 * free of the REST layer so that it is tested on its own.
 */
public final class Problems {
    private Problems() {}

    /** 400: the message names the value, {@code field} where it was. */
    public static Problem invalidInput(InvalidInputException e) {
        return Problem.of(ProblemType.INVALID_INPUT, e.getMessage()).field(e.field());
    }

    /** 400: a body field the target type does not have, with the closest one it does have. */
    public static Problem unknownField(UnrecognizedPropertyException e) {
        UnknownProperty unknown = UnknownProperty.of(e);
        return Problem.of(ProblemType.UNKNOWN_FIELD, unknown.describe()).field(unknown.field());
    }

    /**
     * 400 for a request body that could not be read as JSON of the expected shape: bad input found
     * by a record's constructor keeps its own message and field; otherwise the detail names the
     * position and, where Jackson knows it, the field.
     */
    public static Problem unreadableBody(JsonProcessingException e) {
        Optional<InvalidInputException> invalid = find(e, InvalidInputException.class);
        String path = e instanceof JsonMappingException m ? UnknownProperty.path(m) : "";
        if (invalid.isPresent()) {
            Problem p = invalidInput(invalid.get());
            return invalid.get().field() == null && !path.isEmpty() ? p.field(path) : p;
        }
        if (e instanceof UnrecognizedPropertyException u) {
            return unknownField(u);
        }
        String where = position(e.getLocation());
        if (e instanceof StreamReadException) {
            return Problem.of(
                    ProblemType.INVALID_JSON, "malformed JSON" + where + ": " + firstLine(e.getOriginalMessage()));
        }
        if (e instanceof MismatchedInputException) {
            String subject = path.isEmpty() ? "the body" : "field '" + path + "'";
            return Problem.of(
                            ProblemType.INVALID_JSON,
                            subject + where + " has the wrong type: " + firstLine(e.getOriginalMessage()))
                    .field(path.isEmpty() ? null : path);
        }
        // A value a record's constructor refused with a plain exception: its message is the reason.
        Throwable cause = e.getCause() != null ? e.getCause() : e;
        String reason = cause == e ? e.getOriginalMessage() : cause.getMessage();
        return Problem.of(ProblemType.INVALID_INPUT, (path.isEmpty() ? "" : path + ": ") + firstLine(reason))
                .field(path.isEmpty() ? null : path);
    }

    /**
     * A {@link WebApplicationException} keeps its status; one that the JSON reader raised for a
     * body it could not read says why.
     */
    public static Problem webApplication(WebApplicationException e) {
        int status = e.getResponse() == null ? 500 : e.getResponse().getStatus();
        Optional<JsonProcessingException> json = find(e, JsonProcessingException.class);
        if (status == 400 && json.isPresent()) {
            return unreadableBody(json.get());
        }
        Optional<InvalidInputException> invalid = find(e, InvalidInputException.class);
        if (status == 400 && invalid.isPresent()) {
            return invalidInput(invalid.get());
        }
        return Problem.ofStatus(status, e.getMessage());
    }

    /**
     * 415: the body's media type (or its absence) is not JSON, which every endpoint of ours that reads
     * a body as an object takes; names the type sent.
     */
    public static Problem unsupportedMediaType(MediaType sent) {
        return Problem.of(
                ProblemType.UNSUPPORTED_MEDIA_TYPE,
                "this endpoint reads " + MediaType.APPLICATION_JSON + " bodies, got "
                        + (sent == null ? "a body without Content-Type" : "'" + sent + "'"));
    }

    /** 500: says only that it happened and under which id it was logged. */
    public static Problem internal(String errorId) {
        return Problem.of(ProblemType.INTERNAL_ERROR, "internal error, id " + errorId)
                .errorId(errorId);
    }

    /**
     * Whether a Jackson failure came from reading the request body (the REST layer's reader is on
     * its stack), rather than from the service reading JSON it stored, which is the service's fault.
     */
    public static boolean readingRequestBody(Throwable e) {
        for (StackTraceElement frame : e.getStackTrace()) {
            if (frame.getClassName().endsWith("MessageBodyReader")) {
                return true;
            }
        }
        return false;
    }

    static <T extends Throwable> Optional<T> find(Throwable failure, Class<T> type) {
        int depth = 0;
        for (Throwable t = failure; t != null && depth < 64; t = t.getCause() == t ? null : t.getCause(), depth++) {
            if (type.isInstance(t)) {
                return Optional.of(type.cast(t));
            }
        }
        return Optional.empty();
    }

    private static String position(JsonLocation location) {
        if (location == null || location.getLineNr() < 1) {
            return "";
        }
        return " at line " + location.getLineNr() + ", column " + location.getColumnNr();
    }

    private static String firstLine(String message) {
        return message == null ? "" : message.lines().findFirst().orElse("").trim();
    }
}
