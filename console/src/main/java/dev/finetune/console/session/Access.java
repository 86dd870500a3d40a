package dev.finetune.console.session;

import java.util.List;

/**
 * The services' roles as the console shows them: a role includes every lesser one (service-runtime's
 * {@code Roles}, which the console does not depend on so as not to carry the services' Kafka and
 * object-store wiring). What the console hides is only a courtesy: the services refuse a call the
 * key's role does not allow, whatever the console shows, and the console also refuses such a POST
 * itself before calling them.
 */
public final class Access {
    public static final String VIEWER = "viewer";
    public static final String OPERATOR = "operator";
    public static final String ADMIN = "admin";

    private static final List<String> LEAST_FIRST = List.of(VIEWER, OPERATOR, ADMIN);

    private Access() {}

    /** Whether {@code role} includes {@code leastRole}; an unknown role includes nothing. */
    public static boolean includes(String role, String leastRole) {
        int rank = LEAST_FIRST.indexOf(role);
        int needed = LEAST_FIRST.indexOf(leastRole);
        if (needed < 0) {
            throw new IllegalArgumentException("role must be one of " + LEAST_FIRST + ", got '" + leastRole + "'");
        }
        return rank >= needed;
    }

    public static boolean isRole(String role) {
        return LEAST_FIRST.contains(role);
    }
}
