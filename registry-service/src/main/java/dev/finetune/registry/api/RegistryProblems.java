package dev.finetune.registry.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.registry.basemodel.InvalidBaseModelException;
import dev.finetune.registry.promotion.PromotionRefusedException;
import dev.finetune.registry.store.IntegrityException;
import dev.finetune.service.errors.Problem;
import dev.finetune.service.errors.ProblemType;
import dev.finetune.service.errors.Problems;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.Response;
import java.net.URI;
import java.util.UUID;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/**
 * The registry's own error answers, as problem details like every other (service-runtime's
 * ProblemMappers answer bad input, not-found and conflicts: RegistryNotFoundException and
 * RegistryConflictException are of those types).
 */
public class RegistryProblems {
    private static final Logger LOG = Logger.getLogger(RegistryProblems.class);
    static final URI PROMOTION_REFUSED = URI.create(ProblemType.BASE + "promotion-refused");
    static final URI INTEGRITY_FAILURE = URI.create(ProblemType.BASE + "integrity-failure");

    private final ObjectMapper json;

    RegistryProblems(ObjectMapper json) {
        this.json = json;
    }

    /** A refused promotion, 422: every rule with its numbers in {@code decision}, so the caller sees what to improve. */
    @ServerExceptionMapper
    public Response refused(PromotionRefusedException e, ContainerRequestContext request) {
        return Problem.of(PROMOTION_REFUSED, "Promotion refused", 422, e.getMessage())
                .instance(path(request))
                .with("decision", e.decision())
                .toResponse(json);
    }

    /** A base model that fails verification, 400: the file and the field or tensor as members too. */
    @ServerExceptionMapper
    public Response invalidBaseModel(InvalidBaseModelException e, ContainerRequestContext request) {
        return Problems.invalidInput(e)
                .instance(path(request))
                .with("file", e.file())
                .with("item", e.item())
                .toResponse(json);
    }

    /**
     * Stored bytes that are not the recorded ones, 500: the client must not get them and the
     * operator must look. The detail names the file and both digests (nothing secret), and the
     * error id finds the log line.
     */
    @ServerExceptionMapper
    public Response integrity(IntegrityException e, ContainerRequestContext request) {
        String errorId = UUID.randomUUID().toString().replace("-", "").substring(0, 16);
        LOG.errorf("integrity failure %s on %s %s: %s", errorId, request.getMethod(), path(request), e.getMessage());
        return Problem.of(INTEGRITY_FAILURE, "Stored file does not match its record", 500, e.getMessage())
                .instance(path(request))
                .errorId(errorId)
                .toResponse(json);
    }

    private static String path(ContainerRequestContext request) {
        return request.getUriInfo().getRequestUri().getRawPath();
    }
}
