package dev.finetune.service.security;

import io.quarkus.security.identity.SecurityIdentity;
import io.quarkus.vertx.http.runtime.security.HttpSecurityPolicy;
import io.smallrye.mutiny.Uni;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;

/**
 * The policy on {@code /api/*} (wired by {@code quarkus.http.auth.permission.api.policy}): with
 * security enabled only an authenticated caller passes; with it disabled (dev, test) everyone does.
 */
@ApplicationScoped
public class ApiAccessPolicy implements HttpSecurityPolicy {
    public static final String NAME = "pipeline-api";

    private final ApiKeys keys;

    ApiAccessPolicy(ApiKeys keys) {
        this.keys = keys;
    }

    @Override
    public Uni<CheckResult> checkPermission(
            RoutingContext request, Uni<SecurityIdentity> identity, AuthorizationRequestContext context) {
        if (!keys.enabled()) {
            return CheckResult.permit();
        }
        return identity.map(id -> id.isAnonymous() ? CheckResult.DENY : CheckResult.PERMIT);
    }

    @Override
    public String name() {
        return NAME;
    }
}
