package dev.finetune.service.errors;

import com.fasterxml.jackson.databind.ObjectMapper;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ResourceInfo;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.Arrays;
import java.util.Optional;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

/**
 * A body sent without {@code Content-Type} to an endpoint that reads JSON is refused with 415
 * rather than read as JSON: the REST layer would otherwise match it to the endpoint's only type.
 * (A body with another type is refused by the REST layer itself; {@link ProblemMappers} words it.)
 */
public class UntypedBodies {
    private final ObjectMapper json;

    UntypedBodies(ObjectMapper json) {
        this.json = json;
    }

    @ServerRequestFilter
    public Optional<Response> refuseUntypedJson(ContainerRequestContext request, ResourceInfo resource) {
        if (request.getMediaType() != null || !hasBody(request) || !readsOnlyJson(resource)) {
            return Optional.empty();
        }
        return Optional.of(ProblemMappers.answer(Problems.unsupportedMediaType(null), request, json));
    }

    /** By its headers: the REST layer's hasEntity() means only "has a Content-Type". */
    private static boolean hasBody(ContainerRequestContext request) {
        String length = request.getHeaderString("Content-Length");
        return request.getHeaderString("Transfer-Encoding") != null
                || (length != null && !length.trim().equals("0"));
    }

    private static boolean readsOnlyJson(ResourceInfo resource) {
        if (resource == null || resource.getResourceMethod() == null) {
            return false;
        }
        Consumes consumes = resource.getResourceMethod().getAnnotation(Consumes.class);
        if (consumes == null) {
            consumes = resource.getResourceClass().getAnnotation(Consumes.class);
        }
        // isCompatible takes wildcards as matches; an endpoint that reads */* takes any body as it is
        return consumes != null
                && Arrays.stream(consumes.value())
                        .allMatch(v ->
                                !v.contains("*") && MediaType.valueOf(v).isCompatible(MediaType.APPLICATION_JSON_TYPE));
    }
}
