package dev.finetune.console.pages;

import dev.finetune.console.services.Service;
import dev.finetune.console.services.ServiceClient;
import dev.finetune.console.services.ServiceErrorException;
import dev.finetune.console.session.Session;
import dev.finetune.console.session.SessionCookie;
import dev.finetune.console.session.Sessions;
import dev.finetune.events.DatasetFormat;
import dev.finetune.security.Roles;
import io.quarkus.qute.Location;
import io.quarkus.qute.Template;
import io.quarkus.qute.TemplateInstance;
import io.smallrye.common.annotation.Blocking;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.CookieParam;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.net.URI;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jboss.resteasy.reactive.RestForm;
import org.jboss.resteasy.reactive.multipart.FileUpload;

/**
 * Datasets with their versions, a version's splits, statistics and validation report, and the upload
 * of a new version (operators): the browser posts the file to the console (held on the console's disk
 * until the answer), which streams it to the dataset-service with the session's key; the service's
 * refusal (a bad name, an empty file) is shown next to the field it is about.
 */
@Path("/datasets")
@Produces(MediaType.TEXT_HTML)
@Blocking
public class DatasetsPage {
    private final Template datasets;
    private final Template dataset;
    private final Sessions sessions;
    private final ServiceClient services;

    DatasetsPage(
            @Location("datasets") Template datasets,
            @Location("dataset") Template dataset,
            Sessions sessions,
            ServiceClient services) {
        this.datasets = datasets;
        this.dataset = dataset;
        this.sessions = sessions;
        this.services = services;
    }

    /** The formats the upload form offers: the dataset-service's, by their wire codes. */
    static final List<String> FORMATS =
            Arrays.stream(DatasetFormat.values()).map(DatasetFormat::code).toList();

    /**
     * Every dataset with its versions (one request per dataset); after an upload, {@code uploaded}
     * ({@code name@version}) and {@code duplicate} say what became of the file.
     */
    @GET
    public String list(
            @CookieParam(SessionCookie.NAME) String id,
            @QueryParam("uploaded") String uploaded,
            @QueryParam("duplicate") boolean duplicate) {
        Session session = sessions.require(id);
        return page(session, Map.of("format", DatasetFormat.AUTO.code()), Map.of())
                .data("uploaded", uploaded)
                .data("duplicate", duplicate)
                .render();
    }

    /**
     * Uploads a file as a new version of dataset {@code name} ({@code version}: optional, the next
     * number without one), then shows the list; the dataset-service's refusal comes back on the form.
     */
    @POST
    @Consumes(MediaType.MULTIPART_FORM_DATA)
    public Response upload(
            @CookieParam(SessionCookie.NAME) String id,
            @RestForm String csrf,
            @RestForm String name,
            @RestForm String version,
            @RestForm String format,
            @RestForm("file") FileUpload file) {
        Session session = sessions.requireForPost(id, csrf, Roles.OPERATOR);
        Map<String, String> values = new LinkedHashMap<>();
        values.put("name", name == null ? "" : name.trim());
        values.put("version", version == null ? "" : version.trim());
        values.put("format", format == null || format.isBlank() ? DatasetFormat.AUTO.code() : format);
        if (values.get("name").isEmpty()) {
            return refused(session, values, 400, "name", "a dataset name is required");
        }
        if (file == null || file.fileName() == null || file.fileName().isEmpty()) {
            return refused(session, values, 400, "file", "choose a file to upload");
        }
        String path = "/api/datasets/" + JobsPage.encoded(values.get("name")) + "/versions?format="
                + JobsPage.encoded(values.get("format"))
                + (values.get("version").isEmpty() ? "" : "&version=" + JobsPage.encoded(values.get("version")));
        try {
            Map<?, ?> stored =
                    (Map<?, ?>) services.postFile(Service.DATASET, path, file.uploadedFile(), session.apiKey());
            String uploaded = values.get("name") + "@" + stored.get("version");
            return Response.seeOther(URI.create("/datasets?uploaded=" + JobsPage.encoded(uploaded) + "&duplicate="
                            + Boolean.TRUE.equals(stored.get("duplicate"))))
                    .build();
        } catch (ServiceErrorException e) {
            if (e.status() >= 500) {
                throw e;
            }
            return refused(session, values, e.status(), uploadFieldOf(e), e.getMessage());
        }
    }

    /**
     * The upload form's field a dataset-service refusal is about: its messages name the dataset name,
     * the version or the format ({@code DatasetFormat must be one of ...}); anything else (an empty or
     * too large file, a version that exists with other bytes) is about the file.
     */
    static String uploadFieldOf(ServiceErrorException e) {
        String message = e.getMessage() == null ? "" : e.getMessage();
        if (message.startsWith("dataset name")) {
            return "name";
        }
        if (message.startsWith("dataset version")) {
            return "version";
        }
        if (message.startsWith(DatasetFormat.class.getSimpleName()) || "format".equals(e.field())) {
            return "format";
        }
        return "file";
    }

    private Response refused(Session session, Map<String, String> values, int status, String field, String message) {
        String html = page(session, values, Map.of(field, message)).render();
        return Response.status(status).type(MediaType.TEXT_HTML).entity(html).build();
    }

    /** The list of datasets with the upload form, holding {@code values} and showing {@code errors}. */
    private TemplateInstance page(Session session, Map<String, String> values, Map<String, String> errors) {
        Map<String, Object> versionsByName = new LinkedHashMap<>();
        for (Object name : (List<?>) services.get(Service.DATASET, "/api/datasets", session.apiKey())) {
            String path = "/api/datasets/" + JobsPage.encoded(name.toString()) + "/versions";
            versionsByName.put(name.toString(), services.get(Service.DATASET, path, session.apiKey()));
        }
        return datasets.data("session", session)
                .data("datasets", versionsByName)
                .data("canUpload", session.may(Roles.OPERATOR))
                .data("formats", FORMATS)
                .data("values", values)
                .data("errors", errors);
    }

    /**
     * A version: its status, sha256, splits, token statistics and validation report; {@code filter}
     * keeps the report's lines whose field or reason contains it (ignoring case).
     */
    @GET
    @Path("{name}/{version}")
    public String show(
            @CookieParam(SessionCookie.NAME) String id,
            @PathParam("name") String name,
            @PathParam("version") String version,
            @QueryParam("filter") String filter) {
        Session session = sessions.require(id);
        String path = "/api/datasets/" + JobsPage.encoded(name) + "/versions/" + JobsPage.encoded(version);
        Object view = services.get(Service.DATASET, path, session.apiKey());
        Map<?, ?> report = (Map<?, ?>) services.get(Service.DATASET, path + "/report", session.apiKey());
        Object stats;
        try {
            stats = services.get(Service.DATASET, path + "/stats", session.apiKey());
        } catch (ServiceErrorException e) {
            stats = null; // a rejected version has no statistics; its report says why
        }
        List<?> errors = report == null ? List.of() : (List<?>) report.get("errors");
        return dataset.data("session", session)
                .data("name", name)
                .data("version", view)
                .data("report", report)
                .data("errors", matching(errors, filter))
                .data("filter", filter == null ? "" : filter)
                .data("stats", stats)
                .render();
    }

    /** The report's lines whose field or reason contains {@code filter}, ignoring case; all without one. */
    static <T> List<T> matching(List<T> errors, String filter) {
        if (errors == null || filter == null || filter.isBlank()) {
            return errors == null ? List.of() : errors;
        }
        String wanted = filter.trim().toLowerCase(Locale.ROOT);
        return errors.stream()
                .filter(e -> e instanceof Map<?, ?> line
                        && (String.valueOf(line.get("field"))
                                        .toLowerCase(Locale.ROOT)
                                        .contains(wanted)
                                || String.valueOf(line.get("reason"))
                                        .toLowerCase(Locale.ROOT)
                                        .contains(wanted)))
                .toList();
    }
}
