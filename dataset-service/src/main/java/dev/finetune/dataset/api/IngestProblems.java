package dev.finetune.dataset.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.dataset.ingest.IngestException;
import dev.finetune.errors.TransientException;
import dev.finetune.service.errors.Problem;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.Response;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/**
 * An ingestion refused with the status it chose (400 empty, 409 a version that exists with other
 * bytes, 413 too large, 422 a checksum that differs), as problem details of the matching type.
 * A transient failure (another upload of the same bytes still allocating its version) is 503.
 * Everything else is answered by service-runtime's ProblemMappers.
 */
public class IngestProblems {
    private final ObjectMapper json;

    IngestProblems(ObjectMapper json) {
        this.json = json;
    }

    /** Another upload of the same bytes is still being stored: 503 with Retry-After, the answer comes soon. */
    @ServerExceptionMapper
    public Response busy(TransientException e, ContainerRequestContext request) {
        return Problem.ofStatus(503, e.getMessage())
                .instance(request.getUriInfo().getRequestUri().getRawPath())
                .toResponse(json, Response.status(503).header("Retry-After", "1"));
    }

    @ServerExceptionMapper
    public Response ingest(IngestException e, ContainerRequestContext request) {
        return Problem.ofStatus(e.status(), e.getMessage())
                .field(e.field())
                .instance(request.getUriInfo().getRequestUri().getRawPath())
                .toResponse(json);
    }
}
