package dev.finetune.console.session;

import dev.finetune.console.ConsoleSettings;
import dev.finetune.security.Roles;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The signed-in users, in this process's memory: a restart signs everyone out, and with more than
 * one console replica the ingress must keep a browser on one replica (or this store moves to a shared
 * one). Session ids and CSRF tokens are 256 random bits each; a session unused for {@link
 * ConsoleSettings#sessionIdleTimeout()} is gone, and is dropped from memory at the next sign-in.
 */
@ApplicationScoped
public class Sessions {
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Map<String, Session> byId = new ConcurrentHashMap<>();
    private final Duration idleTimeout;
    private final Clock clock;

    @Inject
    Sessions(ConsoleSettings settings) {
        this(settings.sessionIdleTimeout(), Clock.systemUTC());
    }

    Sessions(Duration idleTimeout, Clock clock) {
        this.idleTimeout = idleTimeout;
        this.clock = clock;
    }

    /** A new session for a key the services accepted. */
    public Session open(String apiKey, String principal, String role) {
        if (!Roles.parse(role).isPresent()) {
            throw new IllegalArgumentException("the services answered an unknown role '" + role + "'");
        }
        Instant now = clock.instant();
        // Sessions nobody comes back to would otherwise stay in memory: each sign-in drops the expired.
        byId.values().removeIf(s -> expired(s, now));
        Session session = new Session(randomToken(), apiKey, principal, role, randomToken(), now);
        byId.put(session.id(), session);
        return session;
    }

    /** How many sessions are held in memory. */
    int held() {
        return byId.size();
    }

    /** The live session of this cookie value, marked as used now; empty if there is none (or it expired). */
    public Optional<Session> find(String id) {
        if (id == null) {
            return Optional.empty();
        }
        Instant now = clock.instant();
        Session session = byId.computeIfPresent(id, (key, s) -> expired(s, now) ? null : s.touched(now));
        return Optional.ofNullable(session);
    }

    /** The session of this cookie value, or {@link NotSignedInException}. */
    public Session require(String id) {
        return find(id).orElseThrow(NotSignedInException::new);
    }

    /**
     * The session of this cookie value for a form post: it must carry the session's CSRF token
     * (compared in constant time), and the user's role must include {@code leastRole}.
     */
    public Session requireForPost(String id, String csrfToken, String leastRole) {
        Session session = require(id);
        if (csrfToken == null
                || !MessageDigest.isEqual(
                        session.csrfToken().getBytes(StandardCharsets.UTF_8),
                        csrfToken.getBytes(StandardCharsets.UTF_8))) {
            throw new RefusedException(
                    "the form's CSRF token does not match this session: reload the page and try again");
        }
        if (!session.may(leastRole)) {
            throw new RefusedException("this needs the role '" + leastRole + "'; " + session.principal()
                    + " has the role '" + session.role() + "'");
        }
        return session;
    }

    public void close(String id) {
        if (id != null) {
            byId.remove(id);
        }
    }

    private boolean expired(Session session, Instant now) {
        return session.lastUsed().plus(idleTimeout).isBefore(now);
    }

    private static String randomToken() {
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }
}
