/**
 * Sign-in and sessions. A user signs in with one of the services' API keys: the console asks a service
 * {@code GET /api/whoami} with it (401: unknown key) and opens a {@link
 * dev.finetune.console.session.Session} that holds the key, the principal and the role, in this
 * process's memory ({@link dev.finetune.console.session.Sessions}). The browser holds only the session
 * id, in an HttpOnly, SameSite=Strict (and, off local runs, Secure) cookie; every form posts the
 * session's CSRF token, and a post is refused (403) unless the token matches and the role includes the
 * least role the action needs ({@link dev.finetune.security.Roles}, shared with the services), before any service is
 * called. The services check the key's role again on every call.
 *
 * <p>Replacing the key with OIDC: add {@code quarkus-oidc} in web-app mode (authorization code flow)
 * in place of the key form; the session then holds the user's access token instead of a key, and the
 * console sends it as {@code Authorization: Bearer}. The services accept it with {@code quarkus-oidc}
 * in service mode next to their API keys, mapping a token claim (for example {@code groups}) to
 * viewer, operator or admin; {@code /api/whoami} answers for both kinds of caller, so the rest of the
 * console does not change.
 */
package dev.finetune.console.session;
