package dev.finetune.console.pages;

import dev.finetune.console.services.Service;
import dev.finetune.console.services.ServiceClient;
import dev.finetune.console.session.Access;
import dev.finetune.console.session.RefusedException;
import dev.finetune.console.session.Session;
import dev.finetune.console.session.SessionCookie;
import dev.finetune.console.session.Sessions;
import io.quarkus.qute.Location;
import io.quarkus.qute.Template;
import io.smallrye.common.annotation.Blocking;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.CookieParam;
import jakarta.ws.rs.FormParam;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.net.URI;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Registered models, their versions and aliases; promote (with the expected-version check) and archive. */
@Path("/models")
@Produces(MediaType.TEXT_HTML)
@Blocking
public class RegistryPage {
    /** The alias the promote form offers when a model has none yet. */
    static final String DEFAULT_ALIAS = "production";

    private final Template models;
    private final Template model;
    private final Sessions sessions;
    private final ServiceClient services;

    RegistryPage(
            @Location("models") Template models,
            @Location("model") Template model,
            Sessions sessions,
            ServiceClient services) {
        this.models = models;
        this.model = model;
        this.sessions = sessions;
        this.services = services;
    }

    @GET
    public String list(@CookieParam(SessionCookie.NAME) String id) {
        Session session = sessions.require(id);
        return models.data("session", session)
                .data("models", services.get(Service.REGISTRY, "/api/models", session.apiKey()))
                .render();
    }

    /** The model's versions (archived ones too) and its aliases. */
    @GET
    @Path("{model}")
    public String show(@CookieParam(SessionCookie.NAME) String id, @PathParam("model") String name) {
        Session session = sessions.require(id);
        String path = "/api/models/" + JobsPage.encoded(name);
        List<?> aliases = (List<?>) services.get(Service.REGISTRY, path + "/aliases", session.apiKey());
        return model.data("session", session)
                .data("name", name)
                .data(
                        "versions",
                        services.get(Service.REGISTRY, path + "/versions?includeArchived=true", session.apiKey()))
                .data("aliases", aliases)
                .data("targets", targets(aliases))
                .data("canChange", session.may(Access.ADMIN))
                .render();
    }

    /**
     * An alias a version can be promoted to, with the version it points at as the page shows it (0:
     * none), which the promotion sends as its expected version.
     */
    public record Target(String alias, long expectedVersion) {
        /** The form's {@code <alias>@<expected version>}. */
        static Target parse(String value) {
            int at = value == null ? -1 : value.lastIndexOf('@');
            try {
                if (at > 0) {
                    return new Target(value.substring(0, at), Long.parseLong(value.substring(at + 1)));
                }
            } catch (NumberFormatException e) {
                // answered below
            }
            throw new RefusedException("the form's target must be <alias>@<expected version>, got '" + value + "'");
        }
    }

    /** The model's aliases, and {@value #DEFAULT_ALIAS} when it has none of that name. */
    static List<Target> targets(List<?> aliases) {
        Map<String, Long> current = new LinkedHashMap<>();
        current.put(DEFAULT_ALIAS, 0L);
        for (Object alias : aliases) {
            Map<?, ?> record = (Map<?, ?>) alias;
            Object version = record.get("version");
            if (version instanceof Number n) { // a removed alias has none
                current.put(String.valueOf(record.get("alias")), n.longValue());
            }
        }
        return current.entrySet().stream()
                .map(e -> new Target(e.getKey(), e.getValue()))
                .toList();
    }

    /**
     * Points an alias at {@code version}: the {@code target} chosen ({@code <alias>@<expected version>},
     * the version the page showed it at; 0: nowhere), or {@code newAlias}, expected to point nowhere. A
     * promotion someone else made meanwhile is refused (409 from the registry), not undone.
     */
    @POST
    @Path("{model}/promote")
    @Consumes(MediaType.APPLICATION_FORM_URLENCODED)
    public Response promote(
            @CookieParam(SessionCookie.NAME) String id,
            @PathParam("model") String name,
            @FormParam("csrf") String csrf,
            @FormParam("version") long version,
            @FormParam("target") String target,
            @FormParam("newAlias") String newAlias) {
        Session session = sessions.requireForPost(id, csrf, Access.ADMIN);
        Target chosen = newAlias != null && !newAlias.isBlank() ? new Target(newAlias.trim(), 0) : Target.parse(target);
        String alias = chosen.alias();
        long expectedVersion = chosen.expectedVersion();
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("version", version);
        body.put("expectedVersion", expectedVersion);
        body.put("reason", "promoted in the console by " + session.principal());
        services.put(
                Service.REGISTRY,
                "/api/models/" + JobsPage.encoded(name) + "/aliases/" + JobsPage.encoded(alias),
                body,
                session.apiKey());
        return Response.seeOther(URI.create("/models/" + JobsPage.encoded(name)))
                .build();
    }

    @POST
    @Path("{model}/versions/{version}/archive")
    @Consumes(MediaType.APPLICATION_FORM_URLENCODED)
    public Response archive(
            @CookieParam(SessionCookie.NAME) String id,
            @PathParam("model") String name,
            @PathParam("version") long version,
            @FormParam("csrf") String csrf) {
        Session session = sessions.requireForPost(id, csrf, Access.ADMIN);
        services.post(
                Service.REGISTRY,
                "/api/models/" + JobsPage.encoded(name) + "/versions/" + version + "/archive",
                null,
                session.apiKey());
        return Response.seeOther(URI.create("/models/" + JobsPage.encoded(name)))
                .build();
    }
}
