package dev.finetune.service.security;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The roles an API key carries, from least to most: {@value #VIEWER} reads (every GET), {@value
 * #OPERATOR} also starts and stops work (creates and cancels jobs, uploads datasets, requests
 * evaluations and exports), {@value #ADMIN} also decides what is released and what runs on its own
 * (promotes, archives, sets aliases, promotion policies and dataset training triggers). Each role
 * includes the ones before it, so an endpoint declares only the least role it needs, with {@code
 * @RolesAllowed}.
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
        return ORDER.contains(name) ? Optional.of(name) : Optional.empty();
    }

    /** What a key of {@code role} may do: that role and every lesser one. */
    public static Set<String> granted(String role) {
        int rank = rank(role);
        return Set.copyOf(ORDER.subList(0, rank + 1));
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
