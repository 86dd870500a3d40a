package dev.finetune.registry.api;

import dev.finetune.errors.InvalidInputException;
import dev.finetune.naming.Names;
import dev.finetune.registry.RegistryNotFoundException;
import dev.finetune.registry.alias.AliasRecord;
import dev.finetune.registry.alias.AliasService;
import dev.finetune.registry.promotion.GateDecision;
import dev.finetune.registry.promotion.PromotionPolicies;
import dev.finetune.registry.promotion.PromotionPolicy;
import dev.finetune.registry.store.RegistryKeys;
import dev.finetune.security.Roles;
import io.quarkus.security.identity.SecurityIdentity;
import io.smallrye.common.annotation.Blocking;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.List;

/**
 * Aliases and promotion: point an alias at a version (checked against the model's promotion
 * policy when it guards that alias), remove it, read it with its history, dry-run a promotion, and
 * set the policy.
 */
@Path("/api/models/{model}")
@Produces(MediaType.APPLICATION_JSON)
@Blocking
public class AliasResource {
    private final AliasService aliases;
    private final PromotionPolicies policies;
    private final SecurityIdentity identity;

    AliasResource(AliasService aliases, PromotionPolicies policies, SecurityIdentity identity) {
        this.aliases = aliases;
        this.policies = policies;
        this.identity = identity;
    }

    /**
     * A request to move an alias.
     *
     * @param version the version it should point at
     * @param expectedVersion optional optimistic check: move only if it points at this version now (0:
     *     only if it points nowhere); otherwise 409
     * @param reason optional, recorded in the history
     */
    public record AliasRequest(Long version, Long expectedVersion, String reason) {}

    @GET
    @RolesAllowed(Roles.VIEWER)
    @Path("/aliases")
    public List<AliasRecord> aliases(@PathParam("model") String model) {
        return aliases.list(Names.requireName("model", model));
    }

    /** The alias with its full history (also after removal: then {@code version} is null). */
    @GET
    @RolesAllowed(Roles.VIEWER)
    @Path("/aliases/{alias}")
    public AliasRecord alias(@PathParam("model") String model, @PathParam("alias") String alias) {
        return aliases.get(model, alias)
                .orElseThrow(() -> new RegistryNotFoundException("model '" + model + "' has no alias '" + alias + "'"));
    }

    /**
     * Points the alias at a version: 200 with the alias and its history; 409 if {@code
     * expectedVersion} does not hold; 422 with the failed rules if the promotion policy refuses.
     */
    @PUT
    @RolesAllowed(Roles.ADMIN)
    @Path("/aliases/{alias}")
    @Consumes(MediaType.APPLICATION_JSON)
    public AliasRecord setAlias(
            @PathParam("model") String model, @PathParam("alias") String alias, AliasRequest request) {
        if (request == null || request.version() == null) {
            throw new InvalidInputException(
                    "version", "body must be {\"version\": <n>} (optionally \"expectedVersion\")");
        }
        Names.requireName("model", model);
        RegistryKeys.requireAlias(alias);
        return aliases.set(
                model, alias, request.version(), request.expectedVersion(), Actors.of(identity), request.reason());
    }

    @DELETE
    @RolesAllowed(Roles.ADMIN)
    @Path("/aliases/{alias}")
    public AliasRecord removeAlias(
            @PathParam("model") String model,
            @PathParam("alias") String alias,
            @QueryParam("expectedVersion") Long expectedVersion) {
        Names.requireName("model", model);
        RegistryKeys.requireAlias(alias);
        return aliases.remove(model, alias, expectedVersion, Actors.of(identity));
    }

    /** Whether the version may become what the alias points at, with every rule's numbers; changes nothing. */
    @GET
    @RolesAllowed(Roles.VIEWER)
    @Path("/versions/{version}/promotion")
    public GateDecision promotion(
            @PathParam("model") String model, @PathParam("version") long version, @QueryParam("alias") String alias) {
        return aliases.check(model, alias == null ? PromotionPolicy.DEFAULT_ALIAS : alias, version);
    }

    @GET
    @RolesAllowed(Roles.VIEWER)
    @Path("/policy")
    public PromotionPolicy policy(@PathParam("model") String model) {
        return policies.get(model)
                .orElseThrow(() -> new RegistryNotFoundException("model '" + model + "' has no promotion policy"));
    }

    @PUT
    @RolesAllowed(Roles.ADMIN)
    @Path("/policy")
    @Consumes(MediaType.APPLICATION_JSON)
    public PromotionPolicy setPolicy(@PathParam("model") String model, PromotionPolicy policy) {
        if (policy == null) {
            throw new InvalidInputException(
                    "body must be a promotion policy, e.g. {\"requirePassed\": true," + " \"metric\": \"eval_loss\"}");
        }
        return policies.put(Names.requireName("model", model), policy);
    }

    @DELETE
    @RolesAllowed(Roles.ADMIN)
    @Path("/policy")
    public Response removePolicy(@PathParam("model") String model) {
        policies.delete(Names.requireName("model", model));
        return Response.noContent().build();
    }
}
