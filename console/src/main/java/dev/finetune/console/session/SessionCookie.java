package dev.finetune.console.session;

import dev.finetune.console.ConsoleSettings;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.ws.rs.core.NewCookie;

/**
 * The cookie that carries the session id: HttpOnly (no script reads it), SameSite=Strict (no other
 * site's page sends it, the first defence against cross-site posts; the CSRF token is the second),
 * Secure unless {@code console.cookie-secure=false} (plain-HTTP local runs).
 */
@ApplicationScoped
public class SessionCookie {
    public static final String NAME = "console_session";

    private final boolean secure;

    SessionCookie(ConsoleSettings settings) {
        this.secure = settings.cookieSecure();
    }

    public NewCookie of(Session session) {
        return builder().value(session.id()).build();
    }

    /** The cookie that makes the browser forget the session. */
    public NewCookie cleared() {
        return builder().value("").maxAge(0).build();
    }

    private NewCookie.Builder builder() {
        return new NewCookie.Builder(NAME)
                .path("/")
                .httpOnly(true)
                .secure(secure)
                .sameSite(NewCookie.SameSite.STRICT);
    }
}
