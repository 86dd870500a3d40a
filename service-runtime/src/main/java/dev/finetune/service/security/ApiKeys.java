package dev.finetune.service.security;

import dev.finetune.security.Roles;
import io.quarkus.runtime.Startup;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The configured API keys, {@code principal:role:token} each ({@link Roles}), parsed and checked
 * once at startup. A misconfiguration (security on and no keys, an entry without a role or with an
 * unknown one, a short token) stops the service with a message naming the setting and the entry,
 * never the token.
 */
@Startup // validated when the service starts, not on the first request
@Singleton
public class ApiKeys {
    /** 128 bits of a random hex or base64 token; anything shorter is guessable. */
    public static final int MIN_TOKEN_LENGTH = 24;

    /**
     * Who presented a key.
     *
     * @param principal the name the key was configured under
     * @param role its role, one of {@link Roles#all()}
     */
    public record Caller(String principal, String role) {}

    private record Key(String role, byte[] token) {}

    private final boolean enabled;
    private final Map<String, Key> keysByPrincipal;

    @Inject
    ApiKeys(SecuritySettings settings) {
        this(settings.enabled(), settings.apiKeys().orElse(List.of()));
    }

    ApiKeys(boolean enabled, List<String> entries) {
        this.enabled = enabled;
        this.keysByPrincipal = parse(entries);
        if (enabled && keysByPrincipal.isEmpty()) {
            throw new IllegalStateException(
                    "pipeline.security.enabled is true but pipeline.security.api-keys is empty: "
                            + "set PIPELINE_SECURITY_API_KEYS=principal:role:token[,principal:role:token...], role one of "
                            + String.join(", ", Roles.all()));
        }
    }

    public boolean enabled() {
        return enabled;
    }

    /** Whose token this is, and with which role, comparing in constant time. */
    public Optional<Caller> callerOf(String token) {
        byte[] presented = token.getBytes(StandardCharsets.UTF_8);
        Caller match = null;
        for (Map.Entry<String, Key> entry : keysByPrincipal.entrySet()) {
            if (MessageDigest.isEqual(entry.getValue().token(), presented)) {
                match = new Caller(entry.getKey(), entry.getValue().role());
            }
        }
        return Optional.ofNullable(match);
    }

    private static Map<String, Key> parse(List<String> entries) {
        Map<String, Key> result = new LinkedHashMap<>();
        for (int i = 0; i < entries.size(); i++) {
            String where = "pipeline.security.api-keys entry " + (i + 1);
            // principal:role:token; the token is the rest, so only the first two colons split.
            String[] parts = entries.get(i).trim().split(":", 3);
            if (parts.length < 3 || parts[0].isEmpty() || parts[2].isEmpty()) {
                throw new IllegalStateException(where + " must be principal:role:token with role one of "
                        + String.join(", ", Roles.all())
                        + (parts.length == 2 ? "; it has no role" : "") + " (the token is not shown)");
            }
            String principal = parts[0];
            String token = parts[2];
            String role = Roles.parse(parts[1])
                    .orElseThrow(() -> new IllegalStateException(where + " ('" + principal + "') has the role "
                            + shown(parts[1]) + ", which is none of " + String.join(", ", Roles.all())));
            if (token.length() < MIN_TOKEN_LENGTH) {
                throw new IllegalStateException("pipeline.security.api-keys token of '" + principal
                        + "' must be at least " + MIN_TOKEN_LENGTH + " characters, got " + token.length());
            }
            if (result.put(principal, new Key(role, token.getBytes(StandardCharsets.UTF_8))) != null) {
                throw new IllegalStateException("pipeline.security.api-keys lists principal '" + principal + "' twice");
            }
        }
        return result;
    }

    /** An unknown role as the message shows it: not at all if it is as long as a token (a misplaced one). */
    private static String shown(String role) {
        return role.length() >= MIN_TOKEN_LENGTH ? "part (not shown: as long as a token)" : "'" + role + "'";
    }
}
