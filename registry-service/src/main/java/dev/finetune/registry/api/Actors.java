package dev.finetune.registry.api;

import io.quarkus.security.identity.SecurityIdentity;

/** Who is calling, for the records of changes. */
final class Actors {
    /** The actor of calls made without an API key (security disabled, as in dev and test). */
    static final String ANONYMOUS = "anonymous";

    private Actors() {}

    static String of(SecurityIdentity identity) {
        return identity == null || identity.isAnonymous()
                ? ANONYMOUS
                : identity.getPrincipal().getName();
    }
}
