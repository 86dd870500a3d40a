package dev.finetune.service.security;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.security.Roles;
import dev.finetune.service.errors.Problem;
import dev.finetune.service.errors.ProblemType;
import io.quarkus.security.AuthenticationFailedException;
import io.quarkus.security.identity.IdentityProviderManager;
import io.quarkus.security.identity.SecurityIdentity;
import io.quarkus.security.identity.request.AuthenticationRequest;
import io.quarkus.security.runtime.QuarkusPrincipal;
import io.quarkus.security.runtime.QuarkusSecurityIdentity;
import io.quarkus.vertx.http.runtime.security.ChallengeData;
import io.quarkus.vertx.http.runtime.security.HttpAuthenticationMechanism;
import io.smallrye.mutiny.Uni;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Set;

/**
 * Authenticates a request by its API key, sent as {@code Authorization: Bearer <token>} or
 * {@code X-API-Key: <token>}: the caller is the key's principal with the roles its role grants
 * ({@link Roles}). No key: the request stays anonymous (and {@link ApiAccessPolicy} refuses it on
 * {@code /api/*}); a wrong key: 401 at once. With security disabled (dev, test) every caller is
 * {@value #UNSECURED_PRINCIPAL} with every role, so the endpoints' role checks pass.
 */
@ApplicationScoped
public class ApiKeyAuthenticationMechanism implements HttpAuthenticationMechanism {
    static final String API_KEY_HEADER = "X-API-Key";
    /** The identity attribute that holds the caller's role as configured (its roles include lesser ones). */
    public static final String ROLE_ATTRIBUTE = "pipeline.role";
    /** Who calls when security is disabled; the registry records it as the actor of changes. */
    public static final String UNSECURED_PRINCIPAL = "anonymous";

    private static final String BEARER = "Bearer ";

    private static final String CHALLENGE = "Bearer realm=\"finetune-pipeline\"";

    private final ApiKeys keys;
    private final ObjectMapper json;

    ApiKeyAuthenticationMechanism(ApiKeys keys, ObjectMapper json) {
        this.keys = keys;
        this.json = json;
    }

    @Override
    public Uni<SecurityIdentity> authenticate(RoutingContext context, IdentityProviderManager identityProviderManager) {
        if (!keys.enabled()) {
            return Uni.createFrom().item(identity(new ApiKeys.Caller(UNSECURED_PRINCIPAL, Roles.ADMIN)));
        }
        String token = presentedToken(context);
        if (token == null) {
            return Uni.createFrom().nullItem();
        }
        return keys.callerOf(token)
                .map(caller -> Uni.createFrom().item(identity(caller)))
                .orElseGet(() -> Uni.createFrom().failure(new AuthenticationFailedException("unknown API key")));
    }

    private static SecurityIdentity identity(ApiKeys.Caller caller) {
        return QuarkusSecurityIdentity.builder()
                .setPrincipal(new QuarkusPrincipal(caller.principal()))
                .addRoles(Roles.granted(caller.role()))
                .addAttribute(ROLE_ATTRIBUTE, caller.role())
                .build();
    }

    @Override
    public Uni<ChallengeData> getChallenge(RoutingContext context) {
        return Uni.createFrom().item(new ChallengeData(401, "WWW-Authenticate", CHALLENGE));
    }

    /** The 401, with the challenge header and, like every error answer, problem details that say what to send. */
    @Override
    public Uni<Boolean> sendChallenge(RoutingContext context) {
        HttpServerResponse response = context.response();
        if (response.ended() || response.headWritten()) {
            return Uni.createFrom().item(true);
        }
        String detail = presentedToken(context) == null
                ? "an API key is required: send it as 'Authorization: Bearer <key>' or 'X-API-Key: <key>'"
                : "the API key is not known";
        String body = Problem.of(ProblemType.UNAUTHORIZED, detail)
                .instance(context.request().path())
                .toJson(json);
        response.setStatusCode(401)
                .putHeader("WWW-Authenticate", CHALLENGE)
                .putHeader("Content-Type", Problem.MEDIA_TYPE)
                .end(body);
        return Uni.createFrom().item(true);
    }

    @Override
    public Set<Class<? extends AuthenticationRequest>> getCredentialTypes() {
        return Set.of(); // the keys are checked here, against configuration; no identity provider is involved
    }

    private static String presentedToken(RoutingContext context) {
        String authorization = context.request().getHeader("Authorization");
        if (authorization != null && authorization.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
            return authorization.substring(BEARER.length()).trim();
        }
        String apiKey = context.request().getHeader(API_KEY_HEADER);
        return apiKey == null ? null : apiKey.trim();
    }
}
