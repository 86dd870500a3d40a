package dev.finetune.console.pages;

import dev.finetune.console.services.ServiceDownException;
import dev.finetune.console.services.ServiceErrorException;
import dev.finetune.console.session.NotSignedInException;
import dev.finetune.console.session.RefusedException;
import io.quarkus.qute.Location;
import io.quarkus.qute.Template;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.net.URI;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/**
 * What a page shows when it cannot show itself: the sign-in page when not signed in, and otherwise a
 * page that says what went wrong and where (which service is down, what it refused) instead of a
 * stack trace.
 */
public class ErrorPages {
    private final @Location("error") Template error;

    ErrorPages(Template error) {
        this.error = error;
    }

    @ServerExceptionMapper
    public Response notSignedIn(NotSignedInException e) {
        return Response.seeOther(URI.create("/sign-in")).build();
    }

    @ServerExceptionMapper
    public Response refused(RefusedException e) {
        return page(403, "Not allowed", e.getMessage());
    }

    @ServerExceptionMapper
    public Response unknownFile(UnknownFileException e) {
        return page(404, "No such file", e.getMessage());
    }

    @ServerExceptionMapper
    public Response down(ServiceDownException e) {
        return page(503, e.service().displayName() + " is down", e.getMessage());
    }

    @ServerExceptionMapper
    public Response failed(ServiceErrorException e) {
        return page(
                e.status() >= 500 ? 502 : e.status(),
                e.service().displayName() + " answered " + e.status(),
                e.getMessage());
    }

    private Response page(int status, String title, String detail) {
        String html = error.data("title", title).data("detail", detail).render();
        return Response.status(status).type(MediaType.TEXT_HTML).entity(html).build();
    }
}
