package dev.finetune.dataset.api;

import dev.finetune.dataset.ingest.IngestException;
import jakarta.ws.rs.core.Response;
import java.util.Map;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/** Turns bad requests into answers that say what was wrong, as JSON {"error": "..."}. */
public class ErrorMappers {

    @ServerExceptionMapper
    public Response ingest(IngestException e) {
        return error(e.status(), e.getMessage());
    }

    /** Invalid names, formats and values: the message names the field and the value. */
    @ServerExceptionMapper
    public Response badValue(IllegalArgumentException e) {
        return error(400, e.getMessage());
    }

    static Response error(int status, String message) {
        return Response.status(status)
                .entity(Map.of("error", message))
                .type("application/json")
                .build();
    }
}
