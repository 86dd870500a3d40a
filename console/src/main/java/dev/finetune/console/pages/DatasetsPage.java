package dev.finetune.console.pages;

import dev.finetune.console.services.Service;
import dev.finetune.console.services.ServiceClient;
import dev.finetune.console.services.ServiceErrorException;
import dev.finetune.console.session.Session;
import dev.finetune.console.session.SessionCookie;
import dev.finetune.console.session.Sessions;
import io.quarkus.qute.Location;
import io.quarkus.qute.Template;
import io.smallrye.common.annotation.Blocking;
import jakarta.ws.rs.CookieParam;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Datasets with their versions, and a version's splits, statistics and validation report. */
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

    /** Every dataset with its versions (one request per dataset). */
    @GET
    public String list(@CookieParam(SessionCookie.NAME) String id) {
        Session session = sessions.require(id);
        Map<String, Object> versionsByName = new LinkedHashMap<>();
        for (Object name : (List<?>) services.get(Service.DATASET, "/api/datasets", session.apiKey())) {
            String path = "/api/datasets/" + JobsPage.encoded(name.toString()) + "/versions";
            versionsByName.put(name.toString(), services.get(Service.DATASET, path, session.apiKey()));
        }
        return datasets.data("session", session)
                .data("datasets", versionsByName)
                .render();
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
