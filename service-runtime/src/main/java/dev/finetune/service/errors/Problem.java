package dev.finetune.service.errors;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import jakarta.ws.rs.core.Response;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An error answer as RFC 9457 problem details ({@code application/problem+json}): {@code type},
 * {@code title}, {@code status}, {@code detail}, {@code instance} (the request path), and where
 * they apply {@code field} (the input that is wrong) and {@code errorId} (of a logged internal
 * error), plus any extension member a mapper adds (e.g. a refused promotion's {@code decision}).
 */
public final class Problem {
    public static final String MEDIA_TYPE = "application/problem+json";

    private final int status;
    private final Map<String, Object> members = new LinkedHashMap<>();

    private Problem(String type, String title, int status, String detail) {
        this.status = status;
        members.put("type", type);
        members.put("title", title);
        members.put("status", status);
        if (detail != null) {
            members.put("detail", detail);
        }
    }

    public static Problem of(ProblemType type, String detail) {
        return new Problem(type.type().toString(), type.title(), type.status(), detail);
    }

    /**
     * A problem of {@code type} answered with another status than the type's own (a type names the
     * kind; some kinds are answered with a 4xx or 5xx that the thrower chose).
     */
    public static Problem of(ProblemType type, int status, String detail) {
        return new Problem(type.type().toString(), type.title(), status, detail);
    }

    /**
     * A problem of a kind only one service gives (e.g. the registry's refused promotion), with its
     * own stable type URI, best under {@link ProblemType#BASE}.
     */
    public static Problem of(java.net.URI type, String title, int status, String detail) {
        return new Problem(type.toString(), title, status, detail);
    }

    /**
     * A problem known only by its status: its general type if there is one, else {@code
     * about:blank} with the status's reason phrase as title, as RFC 9457 says.
     */
    public static Problem ofStatus(int status, String detail) {
        return ProblemType.forStatus(status).map(t -> of(t, detail)).orElseGet(() -> {
            Response.StatusType known = Response.Status.fromStatusCode(status);
            String title = known != null ? known.getReasonPhrase() : "HTTP " + status;
            return new Problem("about:blank", title, status, detail);
        });
    }

    /** The request path the problem occurred on. */
    public Problem instance(String path) {
        return with("instance", path);
    }

    /** The input that is wrong, as a dotted path (e.g. {@code hyperparameters.learning_rate}). */
    public Problem field(String field) {
        return with("field", field);
    }

    /** The id under which the failure was logged with its stack trace. */
    public Problem errorId(String errorId) {
        return with("errorId", errorId);
    }

    /** An extension member; a null value is left out. */
    public Problem with(String name, Object value) {
        if (value != null) {
            members.put(name, value);
        }
        return this;
    }

    public int status() {
        return status;
    }

    public Map<String, Object> members() {
        return Collections.unmodifiableMap(members);
    }

    /**
     * The answer. The body is serialised here, with the service's mapper, because the JSON writer
     * of the REST layer is registered for {@code application/json} only.
     */
    public Response toResponse(ObjectMapper json) {
        return toResponse(json, Response.status(status));
    }

    /** The answer, on a builder that may carry headers already (e.g. {@code Allow}, {@code WWW-Authenticate}). */
    public Response toResponse(ObjectMapper json, Response.ResponseBuilder builder) {
        return builder.status(status).entity(toJson(json)).type(MEDIA_TYPE).build();
    }

    /** The body, for answers written below the REST layer (e.g. the 401 of the API-key check). */
    public String toJson(ObjectMapper json) {
        try {
            return json.writeValueAsString(members);
        } catch (JsonProcessingException e) {
            // An extension member that does not serialise: answer without it rather than not at all.
            Map<String, Object> core = new LinkedHashMap<>(members);
            core.keySet()
                    .retainAll(java.util.Set.of("type", "title", "status", "detail", "instance", "field", "errorId"));
            try {
                return json.writeValueAsString(core);
            } catch (JsonProcessingException again) {
                throw new IllegalStateException("problem details cannot be serialised", again);
            }
        }
    }
}
