package dev.finetune.console.pages;

import dev.finetune.console.ConsoleSettings;
import dev.finetune.console.services.Service;
import dev.finetune.console.services.ServiceClient;
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
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/** The jobs list, a job's page (its live curves come from {@link JobEventsProxy}) and Cancel. */
@Path("/jobs")
@Produces(MediaType.TEXT_HTML)
@Blocking
public class JobsPage {
    private final Template jobs;
    private final Template job;
    private final Sessions sessions;
    private final ServiceClient services;
    private final ConsoleSettings settings;

    JobsPage(
            @Location("jobs") Template jobs,
            @Location("job") Template job,
            Sessions sessions,
            ServiceClient services,
            ConsoleSettings settings) {
        this.jobs = jobs;
        this.job = job;
        this.sessions = sessions;
        this.services = services;
        this.settings = settings;
    }

    /** Jobs per page: the training-service's default page. */
    static final int PAGE_SIZE = 100;

    /**
     * A page of jobs in the training-service's (id) order: the first without {@code after}, else
     * those after job {@code after}. The service pages forward only (its {@code Link rel="next"}), so
     * the way back is carried in the links: {@code back} holds the cursors of the pages before this
     * one, comma-separated (job ids have no commas).
     */
    @GET
    public String list(
            @CookieParam(SessionCookie.NAME) String id,
            @QueryParam("after") String after,
            @QueryParam("back") String back) {
        Session session = sessions.require(id);
        String cursor = after == null || after.isBlank() ? null : after;
        String path = "/api/jobs?limit=" + PAGE_SIZE + (cursor == null ? "" : "&after=" + encoded(cursor));
        ServiceClient.Page page = services.page(Service.TRAINING, path, session.apiKey());
        Instant now = Instant.now();
        List<JobRow> rows = new ArrayList<>();
        for (Object record : page.items()) {
            rows.add(JobRow.of((Map<?, ?>) record, now));
        }
        PageLinks links = PageLinks.of(cursor, cursors(back), page.nextParameter("after"));
        return jobs.data("session", session)
                .data("jobs", rows)
                .data("links", links)
                .data("pageSize", PAGE_SIZE)
                .data("canCreate", session.may(Roles.OPERATOR))
                .render();
    }

    /**
     * The jobs list's links to the previous and next pages, null where there is none.
     *
     * @param previous the page before, or null on the first
     * @param next the page after, or null on the last
     */
    record PageLinks(String previous, String next) {
        /**
         * @param after this page's cursor, null on the first page
         * @param back the cursors of the pages before this one, oldest first, without the first page's
         * @param nextAfter the cursor of the next page, from the service's link, or null
         */
        static PageLinks of(String after, List<String> back, String nextAfter) {
            String previous = null;
            if (after != null) {
                previous = back.isEmpty() ? "/jobs" : link(back.get(back.size() - 1), back.subList(0, back.size() - 1));
            }
            String next = null;
            if (nextAfter != null) {
                List<String> trail = new ArrayList<>(back);
                if (after != null) {
                    trail.add(after);
                }
                next = link(nextAfter, trail);
            }
            return new PageLinks(previous, next);
        }

        private static String link(String after, List<String> back) {
            return "/jobs?after=" + encoded(after) + (back.isEmpty() ? "" : "&back=" + encoded(String.join(",", back)));
        }
    }

    private static List<String> cursors(String back) {
        return back == null || back.isBlank()
                ? List.of()
                : Arrays.stream(back.split(",")).filter(c -> !c.isBlank()).toList();
    }

    @GET
    @Path("{job}")
    public String show(@CookieParam(SessionCookie.NAME) String id, @PathParam("job") String jobId) {
        Session session = sessions.require(id);
        String path = "/api/jobs/" + encoded(jobId);
        Map<?, ?> record = (Map<?, ?>) services.get(Service.TRAINING, path, session.apiKey());
        Object checkpoints = services.get(Service.TRAINING, path + "/checkpoints", session.apiKey());
        Object evaluations = services.get(Service.EVAL, "/api/evaluations?jobId=" + encoded(jobId), session.apiKey());
        String state = String.valueOf(record.get("state"));
        return job.data("session", session)
                .data("job", record)
                .data("checkpoints", checkpoints)
                .data("evaluations", evaluations)
                .data("traceUrl", traceUrl(jobId))
                .data("canCancel", session.may(Roles.OPERATOR) && !JobRow.isTerminal(state))
                .render();
    }

    @POST
    @Path("{job}/cancel")
    @Consumes(MediaType.APPLICATION_FORM_URLENCODED)
    public Response cancel(
            @CookieParam(SessionCookie.NAME) String id,
            @PathParam("job") String jobId,
            @FormParam("csrf") String csrf) {
        Session session = sessions.requireForPost(id, csrf, Roles.OPERATOR);
        services.post(Service.TRAINING, "/api/jobs/" + encoded(jobId) + "/cancel", null, session.apiKey());
        return Response.seeOther(URI.create("/jobs/" + encoded(jobId))).build();
    }

    /** Jaeger's search for the job's spans (every span of a job's work carries {@code job.id}). */
    private String traceUrl(String jobId) {
        return settings.jaegerUrl()
                .map(base -> base.toString().replaceAll("/$", "") + "/search?service=training-service&tags="
                        + encoded("{\"job.id\":\"" + jobId + "\"}"))
                .orElse(null);
    }

    static String encoded(String part) {
        return URLEncoder.encode(part, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
