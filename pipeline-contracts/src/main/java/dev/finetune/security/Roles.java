package dev.finetune.security;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The roles an API key carries, from least to most: {@value #VIEWER} reads (every GET), {@value
 * #OPERATOR} also starts and stops work (creates and cancels jobs, uploads datasets, requests
 * evaluations and exports), {@value #ADMIN} also decides what is released and what runs on its own
 * (promotes, archives, sets aliases, promotion policies and dataset training triggers). Each role
 * includes the ones before it, so a service endpoint declares only the least role it needs, with
 * {@code @RolesAllowed}, and the console offers an action only to a role that includes it.
 *
 * <p>Declared once, here, for the services (service-runtime) and the console alike; plain Java, so the
 * console does not carry the services' Kafka and object-store wiring to know them.
 */
public final class Roles {
    public static final String VIEWER = "viewer";
    public static final String OPERATOR = "operator";
    public static final String ADMIN = "admin";

    /** Least first: a role grants itself and every role before it. */
    private static final List<String> ORDER = List.of(VIEWER, OPERATOR, ADMIN);

    private Roles() {}

    public static List<String> all() {
        return ORDER;
    }

    /** The role of this name, if there is one. */
    public static Optional<String> parse(String name) {
        return name != null && ORDER.contains(name) ? Optional.of(name) : Optional.empty(); // List.of rejects null
    }

    /** What a key of {@code role} may do: that role and every lesser one. */
    public static Set<String> granted(String role) {
        int rank = rank(role);
        return Set.copyOf(ORDER.subList(0, rank + 1));
    }

    /**
     * Whether {@code role} includes {@code leastRole}; a name that is no role includes nothing.
     *
     * @throws IllegalArgumentException if {@code leastRole} is no role (a caller's mistake, not a key's)
     */
    public static boolean includes(String role, String leastRole) {
        int needed = rank(leastRole);
        return parse(role).map(ORDER::indexOf).orElse(-1) >= needed;
    }

    /** The least of the roles an endpoint allows (the one a caller needs at least). */
    public static String least(String[] allowed) {
        return Arrays.stream(allowed).min((a, b) -> rank(a) - rank(b)).orElseThrow();
    }

    private static int rank(String role) {
        int rank = ORDER.indexOf(role);
        if (rank < 0) {
            throw new IllegalArgumentException(
                    "role must be one of " + String.join(", ", ORDER) + ", got '" + role + "'");
        }
        return rank;
    }
}
