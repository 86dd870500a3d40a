package dev.finetune.console.pages;

import dev.finetune.console.services.Service;
import dev.finetune.console.services.ServiceClient;
import dev.finetune.console.services.ServiceErrorException;
import dev.finetune.console.session.Session;
import dev.finetune.console.session.SessionCookie;
import dev.finetune.console.session.Sessions;
import dev.finetune.security.Roles;
import io.quarkus.qute.Location;
import io.quarkus.qute.Template;
import io.smallrye.common.annotation.Blocking;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.CookieParam;
import jakarta.ws.rs.FormParam;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.net.URI;
import java.util.Map;

/**
 * Sign-in with an API key: the console asks the training-service whose key it is ({@code GET
 * /api/whoami}), keeps the key in a server-side {@link Session} and gives the browser only the
 * session's cookie. Sign-out forgets the session.
 */
@Path("/")
@Produces(MediaType.TEXT_HTML)
@Blocking
public class SignInPage {
    private final Template signin;
    private final Sessions sessions;
    private final SessionCookie cookie;
    private final ServiceClient services;

    SignInPage(@Location("signin") Template signin, Sessions sessions, SessionCookie cookie, ServiceClient services) {
        this.signin = signin;
        this.sessions = sessions;
        this.cookie = cookie;
        this.services = services;
    }

    @GET
    public Response home() {
        return Response.seeOther(URI.create("/jobs")).build();
    }

    @GET
    @Path("sign-in")
    public String form() {
        return signin.data("error", null).render();
    }

    @POST
    @Path("sign-in")
    @Consumes(MediaType.APPLICATION_FORM_URLENCODED)
    public Response signIn(@FormParam("apiKey") String apiKey) {
        if (apiKey == null || apiKey.isBlank()) {
            return refused("an API key is required");
        }
        Map<?, ?> caller;
        try {
            caller = (Map<?, ?>) services.get(Service.TRAINING, "/api/whoami", apiKey.trim());
        } catch (ServiceErrorException e) {
            return refused(e.status() == 401 ? "this API key is not known" : e.getMessage());
        }
        String role = String.valueOf(caller.get("role"));
        if (!Roles.parse(role).isPresent()) {
            return refused("the services answered an unknown role '" + role + "' for this key");
        }
        Session session = sessions.open(apiKey.trim(), String.valueOf(caller.get("principal")), role);
        return Response.seeOther(URI.create("/jobs")).cookie(cookie.of(session)).build();
    }

    @POST
    @Path("sign-out")
    @Consumes(MediaType.APPLICATION_FORM_URLENCODED)
    public Response signOut(@CookieParam(SessionCookie.NAME) String id, @FormParam("csrf") String csrf) {
        Session session = sessions.requireForPost(id, csrf, Roles.VIEWER);
        sessions.close(session.id());
        return Response.seeOther(URI.create("/sign-in"))
                .cookie(cookie.cleared())
                .build();
    }

    private Response refused(String error) {
        return Response.status(401).entity(signin.data("error", error).render()).build();
    }
}
