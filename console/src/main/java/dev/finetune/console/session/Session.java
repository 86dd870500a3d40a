package dev.finetune.console.session;

import dev.finetune.security.Roles;
import java.time.Instant;

/**
 * A signed-in user, held in the console's memory only: the API key never leaves the server; the
 * browser holds the session id (an HttpOnly cookie) and, in each form, the CSRF token.
 *
 * @param id the cookie's value
 * @param apiKey the key the user signed in with, sent to the services on the user's behalf
 * @param principal the name the key is configured under
 * @param role the key's role, as the services answered it
 * @param csrfToken the token every form posts back
 * @param lastUsed when the session last served a request
 */
public record Session(String id, String apiKey, String principal, String role, String csrfToken, Instant lastUsed) {
    Session touched(Instant now) {
        return new Session(id, apiKey, principal, role, csrfToken, now);
    }

    /**
     * Whether this user's role includes {@code leastRole} ({@link Roles}, the services' vocabulary).
     * What the console hides is only a courtesy: the services refuse a call the key's role does not
     * allow, whatever the console shows, and the console also refuses such a POST itself before
     * calling them.
     */
    public boolean may(String leastRole) {
        return Roles.includes(role, leastRole);
    }

    @Override
    public String toString() {
        return "Session[" + principal + ", " + role + "]"; // never the key or the tokens
    }
}
