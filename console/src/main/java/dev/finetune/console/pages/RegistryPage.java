package dev.finetune.console.pages;

import dev.finetune.console.services.Service;
import dev.finetune.console.services.ServiceClient;
import dev.finetune.console.session.RefusedException;
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
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.StreamingOutput;
import java.io.InputStream;
import java.net.URI;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/** Registered models, their versions and aliases; promote (with the expected-version check) and archive. */
@Path("/models")
@Produces(MediaType.TEXT_HTML)
@Blocking
public class RegistryPage {
    /** The alias the promote form offers when a model has none yet. */
    static final String DEFAULT_ALIAS = "production";

    private final Template models;
    private final Template model;
    private final Template modelVersion;
    private final Sessions sessions;
    private final ServiceClient services;

    RegistryPage(
            @Location("models") Template models,
            @Location("model") Template model,
            @Location("version") Template modelVersion,
            Sessions sessions,
            ServiceClient services) {
        this.models = models;
        this.model = model;
        this.modelVersion = modelVersion;
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
                .data("canChange", session.may(Roles.ADMIN))
                .render();
    }

    /** A version: status, metrics, lineage, its files with download links, and its model card rendered. */
    @GET
    @Path("{model}/versions/{version}")
    public String version(
            @CookieParam(SessionCookie.NAME) String id,
            @PathParam("model") String name,
            @PathParam("version") long version) {
        Session session = sessions.require(id);
        Map<?, ?> detail = (Map<?, ?>) services.get(Service.REGISTRY, versionPath(name, version), session.apiKey());
        return modelVersion
                .data("session", session)
                .data("name", name)
                .data("version", detail.get("version"))
                .data("card", ModelCardHtml.render((String) detail.get("card")))
                .render();
    }

    /**
     * One of the version's files, streamed from the registry with the session's key (which never
     * reaches the browser, as a redirect to the registry would hand it over) as an attachment. Any
     * signed-in user may download: the registry serves files to viewers. Only a name the version's
     * file list holds is asked for, so no made-up path reaches the registry.
     */
    @GET
    @Path("{model}/versions/{version}/files/{file: .+}")
    @Produces(MediaType.WILDCARD)
    public Response file(
            @CookieParam(SessionCookie.NAME) String id,
            @PathParam("model") String name,
            @PathParam("version") long version,
            @PathParam("file") String file) {
        Session session = sessions.require(id);
        String path = versionPath(name, version);
        Map<?, ?> detail = (Map<?, ?>) services.get(Service.REGISTRY, path, session.apiKey());
        String listed = listedFile((Map<?, ?>) ((Map<?, ?>) detail.get("version")).get("files"), file, name, version);
        ServiceClient.Download download =
                services.download(Service.REGISTRY, path + "/files/" + segments(listed), session.apiKey());
        StreamingOutput body = output -> {
            try (InputStream in = download.body()) {
                in.transferTo(output);
            }
        };
        Response.ResponseBuilder response = Response.ok(body)
                .type(download.contentType())
                .header("Content-Disposition", "attachment; filename=\"" + attachmentName(listed) + "\"");
        if (download.length() >= 0) {
            response.header("Content-Length", download.length());
        }
        if (download.sha256() != null) {
            response.header("X-Sha256", download.sha256());
        }
        return response.build();
    }

    /** {@code file} if the version's file list (name to size and SHA-256) holds it, else {@link UnknownFileException}. */
    static String listedFile(Map<?, ?> files, String file, String model, long version) {
        if (files == null || file == null || !files.containsKey(file)) {
            throw new UnknownFileException("version " + version + " of '" + model + "' has no file '" + file + "'"
                    + (files == null || files.isEmpty() ? "" : " (it has " + String.join(", ", names(files)) + ")"));
        }
        return file;
    }

    /** The file's last segment, with anything but letters, digits, '.', '-' and '_' as '_', for the header. */
    static String attachmentName(String file) {
        return file.substring(file.lastIndexOf('/') + 1).replaceAll("[^A-Za-z0-9._-]", "_");
    }

    private static List<String> names(Map<?, ?> files) {
        return files.keySet().stream().map(String::valueOf).sorted().toList();
    }

    /** A file path for a URL: each segment encoded, the slashes kept. */
    private static String segments(String file) {
        return Arrays.stream(file.split("/", -1)).map(JobsPage::encoded).collect(Collectors.joining("/"));
    }

    private static String versionPath(String model, long version) {
        return "/api/models/" + JobsPage.encoded(model) + "/versions/" + version;
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
        Session session = sessions.requireForPost(id, csrf, Roles.ADMIN);
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
        Session session = sessions.requireForPost(id, csrf, Roles.ADMIN);
        services.post(
                Service.REGISTRY,
                "/api/models/" + JobsPage.encoded(name) + "/versions/" + version + "/archive",
                null,
                session.apiKey());
        return Response.seeOther(URI.create("/models/" + JobsPage.encoded(name)))
                .build();
    }
}
