package dev.finetune.cli.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.Optional;

/**
 * A service answered with an error status. The message names the call and the status, then the
 * service's reason: from problem details (RFC 9457, as every pipeline service answers) the title,
 * the detail and the field, e.g. {@code training-service POST api/jobs answered 400 Invalid input:
 * hyperparameters.learning_rate must be positive, got -1.0 (field hyperparameters.learning_rate)};
 * from any other body the body itself.
 */
public final class ApiException extends RuntimeException {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final int status;
    private final transient JsonNode problem;

    public ApiException(String call, int status, String body) {
        this(call, status, problemOf(body), body);
    }

    private ApiException(String call, int status, JsonNode problem, String body) {
        super(call + " answered " + status + reason(problem, body));
        this.status = status;
        this.problem = problem;
    }

    public int status() {
        return status;
    }

    /** The problem's {@code type} URI, if the answer was problem details. */
    public Optional<String> type() {
        return member("type");
    }

    /** The input the service refused, if it named one. */
    public Optional<String> field() {
        return member("field");
    }

    /** The id under which the service logged an internal error. */
    public Optional<String> errorId() {
        return member("errorId");
    }

    private Optional<String> member(String name) {
        return problem == null || !problem.path(name).isValueNode()
                ? Optional.empty()
                : Optional.of(problem.path(name).asText());
    }

    private static String reason(JsonNode problem, String body) {
        if (problem != null) {
            StringBuilder s =
                    new StringBuilder(" ").append(problem.path("title").asText());
            String detail = problem.path("detail").asText("");
            if (!detail.isBlank()) {
                s.append(": ").append(detail.strip());
            }
            if (problem.path("field").isValueNode()
                    && !problem.path("field").asText().isBlank()) {
                s.append(" (field ").append(problem.path("field").asText()).append(')');
            }
            return s.toString();
        }
        return body == null || body.isBlank() ? "" : ": " + body.strip();
    }

    /** The body as problem details: a JSON object with at least a title and a status. */
    private static JsonNode problemOf(String body) {
        if (body == null || !body.stripLeading().startsWith("{")) {
            return null;
        }
        try {
            JsonNode node = JSON.readTree(body);
            return node.isObject()
                            && node.path("title").isTextual()
                            && node.path("status").isNumber()
                    ? node
                    : null;
        } catch (IOException e) {
            return null; // not JSON after all: the raw body is the reason
        }
    }
}
