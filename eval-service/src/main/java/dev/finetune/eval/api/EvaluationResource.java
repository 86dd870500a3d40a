package dev.finetune.eval.api;

import dev.finetune.errors.InvalidInputException;
import dev.finetune.eval.run.EvaluationReport;
import dev.finetune.eval.run.EvaluationRequest;
import dev.finetune.eval.run.ReportStore;
import dev.finetune.naming.Names;
import dev.finetune.security.Roles;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Evaluations over HTTP: request one of any adapter or model on any prepared dataset, and read the
 * results of those and of checkpoint evaluations.
 */
@Path("/api/evaluations")
public class EvaluationResource {
    private static final Pattern CHECKPOINT_ID = Pattern.compile("(.+)-step-(\\d+)");

    private final AdHocEvaluations adHoc;
    private final ReportStore reports;

    EvaluationResource(AdHocEvaluations adHoc, ReportStore reports) {
        this.adHoc = adHoc;
        this.reports = reports;
    }

    /** Starts an evaluation: 202 with its id; poll {@code GET /api/evaluations/{id}}. */
    @POST
    @RolesAllowed(Roles.OPERATOR)
    @Consumes(MediaType.APPLICATION_JSON)
    public Response request(EvaluateRequest request) {
        EvaluationRequest accepted = adHoc.submit(request);
        return Response.accepted(Map.of(
                        "evaluationId",
                        accepted.evaluationId(),
                        "status",
                        "running",
                        "reportKey",
                        accepted.reportKey()))
                .build();
    }

    /** The full report (status passed, gates_failed or error), or 202 {"status":"running"}. */
    @GET
    @RolesAllowed(Roles.VIEWER)
    @Path("/{id}")
    public Response get(@PathParam("id") String id) {
        Names.requireName("evaluation id", id);
        Matcher checkpoint = CHECKPOINT_ID.matcher(id);
        String key = checkpoint.matches() && !id.startsWith(AdHocEvaluations.ID_PREFIX)
                ? EvaluationRequest.checkpointReportKey(checkpoint.group(1), Long.parseLong(checkpoint.group(2)))
                : AdHocEvaluations.reportKey(id);
        EvaluationReport report = reports.get(key).orElse(null);
        if (report != null) {
            return Response.ok(report).build();
        }
        if (adHoc.isPending(id)) {
            return Response.accepted(Map.of("evaluationId", id, "status", "running"))
                    .build();
        }
        throw new NotFoundException("no evaluation '" + id + "'");
    }

    /** Every evaluated checkpoint of a job, by step. */
    @GET
    @RolesAllowed(Roles.VIEWER)
    public List<EvaluationReport> ofJob(@QueryParam("jobId") String jobId) {
        if (jobId == null) {
            throw new InvalidInputException("jobId", "jobId: a query parameter is required");
        }
        return reports.ofJob(Names.requireName("jobId", jobId));
    }
}
