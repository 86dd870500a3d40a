package dev.finetune.registry.api;

import dev.finetune.registry.RegistryConflictException;
import dev.finetune.registry.RegistryNotFoundException;
import dev.finetune.registry.promotion.PromotionRefusedException;
import dev.finetune.registry.store.IntegrityException;
import jakarta.ws.rs.core.Response;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/** Turns registry errors into answers that say what was wrong, as JSON {@code {"error": "..."}}. */
public class ErrorMappers {
    private static final Logger LOG = Logger.getLogger(ErrorMappers.class);

    /** Invalid names and values: the message names the field and the value. */
    @ServerExceptionMapper
    public Response badValue(IllegalArgumentException e) {
        return error(400, e.getMessage());
    }

    @ServerExceptionMapper
    public Response notFound(RegistryNotFoundException e) {
        return error(404, e.getMessage());
    }

    @ServerExceptionMapper
    public Response conflict(RegistryConflictException e) {
        return error(409, e.getMessage());
    }

    /** A refused promotion: every rule with its numbers, so the caller sees what to improve. */
    @ServerExceptionMapper
    public Response refused(PromotionRefusedException e) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("error", e.getMessage());
        body.put("decision", e.decision());
        return Response.status(422).entity(body).type("application/json").build();
    }

    /** Stored bytes that are not the recorded ones: the operator must look, the client must not get them. */
    @ServerExceptionMapper
    public Response integrity(IntegrityException e) {
        LOG.error(e.getMessage());
        return error(500, e.getMessage());
    }

    static Response error(int status, String message) {
        return Response.status(status)
                .entity(Map.of("error", message))
                .type("application/json")
                .build();
    }
}
