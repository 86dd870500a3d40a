package dev.finetune.registry.api;

import dev.finetune.naming.Names;
import dev.finetune.registry.catalog.JobRef;
import dev.finetune.registry.catalog.RegistryCatalog;
import dev.finetune.registry.registration.PendingRegistrations;
import dev.finetune.security.Roles;
import io.smallrye.common.annotation.Blocking;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

/**
 * Where a training job stands in the registry: unknown, pending (and waiting for what) or registered
 * (the job's id as the training-service named it).
 */
@Path("/api/registrations")
@Produces(MediaType.APPLICATION_JSON)
@Blocking
public class RegistrationResource {
    private final RegistryCatalog catalog;
    private final PendingRegistrations pending;

    RegistrationResource(RegistryCatalog catalog, PendingRegistrations pending) {
        this.catalog = catalog;
        this.pending = pending;
    }

    /**
     * @param state {@code unknown}, {@code pending} or {@code registered} (complete, announced on
     *     {@code registry.events} and automatically promoted where the policy says so)
     * @param model the registered model, once registered
     * @param version its version, once registered
     * @param detail what a pending job waits for
     */
    public record RegistrationView(String jobId, String state, String model, Long version, String detail) {}

    @GET
    @RolesAllowed(Roles.VIEWER)
    @Path("/{job}")
    public RegistrationView registration(@PathParam("job") String job) {
        Names.requireName("job id", job);
        JobRef ref = catalog.jobRef(job).orElse(null);
        boolean pendingState = pending.exists(job);
        if (ref != null && !pendingState) {
            return new RegistrationView(job, "registered", ref.model(), ref.version(), null);
        }
        var checkpoint = pending.checkpoint(job);
        if (checkpoint.isEmpty()) {
            return pendingState
                    ? new RegistrationView(job, "pending", null, null, "waiting for the job's final checkpoint")
                    : new RegistrationView(job, "unknown", null, null, null);
        }
        long step = checkpoint.get().event().step();
        String detail = pending.evaluation(job, step)
                .map(e -> "evaluation " + e.event().evaluationId() + " of step " + step + " is "
                        + e.event().status().code()
                        + (e.event().error() == null ? "" : " (" + e.event().error() + ")")
                        + (ref != null ? ": registering" : ": waiting for a scored evaluation"))
                .orElse("waiting for the evaluation of the final step " + step);
        return new RegistrationView(job, "pending", ref == null ? null : ref.model(), null, detail);
    }
}
