package dev.finetune.service.security;

import dev.finetune.security.Roles;
import io.quarkus.security.identity.SecurityIdentity;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

/**
 * Who the caller's API key says it is, on every service: the console signs a user in by asking this
 * with the key the user typed (a 401 means the key is not known).
 */
@Path("/api/whoami")
@Produces(MediaType.APPLICATION_JSON)
public class WhoAmIResource {
    /**
     * The caller.
     *
     * @param principal the name the key is configured under
     * @param role its role, one of {@link Roles#all()}
     */
    public record Caller(String principal, String role) {}

    private final SecurityIdentity identity;

    WhoAmIResource(SecurityIdentity identity) {
        this.identity = identity;
    }

    @GET
    @RolesAllowed(Roles.VIEWER)
    public Caller whoami() {
        String role = identity.getAttribute(ApiKeyAuthenticationMechanism.ROLE_ATTRIBUTE);
        return new Caller(identity.getPrincipal().getName(), role);
    }
}
