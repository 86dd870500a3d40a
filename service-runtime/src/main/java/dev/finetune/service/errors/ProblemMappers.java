package dev.finetune.service.errors;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import dev.finetune.errors.ConflictException;
import dev.finetune.errors.InvalidInputException;
import dev.finetune.errors.ResourceNotFoundException;
import dev.finetune.security.Roles;
import dev.finetune.service.security.ApiKeyAuthenticationMechanism;
import io.quarkus.security.ForbiddenException;
import io.quarkus.security.identity.SecurityIdentity;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ResourceInfo;
import jakarta.ws.rs.core.Response;
import java.util.UUID;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/**
 * Every error answer of every service, as problem details ({@link Problem}). Only what is known to
 * be the caller's fault is a 4xx: {@link InvalidInputException} (400), a body that is not JSON of
 * the expected shape or has a field the endpoint does not know (400), {@link
 * ResourceNotFoundException} (404), {@link ConflictException} (409), a call the caller's role does
 * not allow (403, naming the role it needs and the caller's), a body in a media type the endpoint
 * does not read (415, naming both types), and a {@link
 * WebApplicationException} with the status it carries. Anything else is a fault of the service: a
 * 500 whose body says only "internal error" and an id, and the same id is logged with the stack
 * trace. A service adds mappers of its own for its special answers (e.g. the registry's 422 of a
 * refused promotion) with {@link Problem} too.
 */
public class ProblemMappers {
    private static final Logger LOG = Logger.getLogger(ProblemMappers.class);

    private final ObjectMapper json;
    private final SecurityIdentity identity;

    ProblemMappers(ObjectMapper json, SecurityIdentity identity) {
        this.json = json;
        this.identity = identity;
    }

    /**
     * The endpoint's {@code @RolesAllowed} refused the caller's role (a caller without a key never gets
     * here: it is challenged with 401 first).
     */
    @ServerExceptionMapper
    public Response forbidden(ForbiddenException e, ContainerRequestContext request, ResourceInfo resource) {
        RolesAllowed allowed = resource.getResourceMethod().getAnnotation(RolesAllowed.class);
        if (allowed == null) { // quarkus.security.jaxrs.deny-unannotated-endpoints refused it
            return answer(
                    Problem.of(ProblemType.FORBIDDEN, "this endpoint declares no role, so nobody may call it"),
                    request);
        }
        String required = Roles.least(allowed.value());
        String callerRole = identity.getAttribute(ApiKeyAuthenticationMechanism.ROLE_ATTRIBUTE);
        return answer(
                Problem.of(
                                ProblemType.FORBIDDEN,
                                request.getMethod() + " " + path(request) + " needs the role '" + required
                                        + "'; the key of '"
                                        + identity.getPrincipal().getName() + "' has the role '"
                                        + callerRole + "'")
                        .with("requiredRole", required)
                        .with("callerRole", callerRole),
                request);
    }

    @ServerExceptionMapper
    public Response invalidInput(InvalidInputException e, ContainerRequestContext request) {
        return answer(Problems.invalidInput(e), request);
    }

    @ServerExceptionMapper
    public Response notFound(ResourceNotFoundException e, ContainerRequestContext request) {
        return answer(Problem.of(ProblemType.NOT_FOUND, e.getMessage()), request);
    }

    @ServerExceptionMapper
    public Response conflict(ConflictException e, ContainerRequestContext request) {
        return answer(Problem.of(ProblemType.CONFLICT, e.getMessage()), request);
    }

    /** Also a MismatchedInputException: Jackson's unknown-property failure is one. */
    @ServerExceptionMapper
    public Response unknownField(UnrecognizedPropertyException e, ContainerRequestContext request) {
        return Problems.readingRequestBody(e) ? answer(Problems.unknownField(e), request) : unexpected(e, request);
    }

    /** The body's JSON has the wrong shape (the REST layer passes these on unwrapped). */
    @ServerExceptionMapper
    public Response mismatchedInput(MismatchedInputException e, ContainerRequestContext request) {
        return Problems.readingRequestBody(e) ? answer(Problems.unreadableBody(e), request) : unexpected(e, request);
    }

    @ServerExceptionMapper
    public Response webApplication(WebApplicationException e, ContainerRequestContext request) {
        Problem problem = e.getResponse() != null && e.getResponse().getStatus() == 415
                ? Problems.unsupportedMediaType(request.getMediaType())
                : Problems.webApplication(e);
        if (problem.status() >= 500) {
            LOG.errorf(e, "%s %s answered %d", request.getMethod(), path(request), problem.status());
        }
        problem.instance(path(request));
        Response original = e.getResponse();
        Response.ResponseBuilder builder =
                original == null ? Response.status(problem.status()) : Response.fromResponse(original);
        // Keep what the status needs (Allow, WWW-Authenticate, Retry-After); the body is replaced.
        builder.header("Content-Length", null).header("Content-Type", null);
        return problem.toResponse(json, builder);
    }

    /** Everything no other mapper claims: a fault of the service, logged under a fresh id. */
    @ServerExceptionMapper
    public Response unexpected(Throwable e, ContainerRequestContext request) {
        String errorId = newErrorId();
        LOG.errorf(e, "internal error %s on %s %s: %s", errorId, request.getMethod(), path(request), e);
        return answer(Problems.internal(errorId), request);
    }

    static Response answer(Problem problem, ContainerRequestContext request, ObjectMapper json) {
        return problem.instance(path(request)).toResponse(json);
    }

    private Response answer(Problem problem, ContainerRequestContext request) {
        return answer(problem, request, json);
    }

    /** Short enough to read out, random enough not to repeat in a log. */
    static String newErrorId() {
        return UUID.randomUUID().toString().replace("-", "").substring(0, 16);
    }

    static String path(ContainerRequestContext request) {
        return request.getUriInfo().getRequestUri().getRawPath();
    }
}
