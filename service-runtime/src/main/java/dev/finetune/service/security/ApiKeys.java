package dev.finetune.service.security;

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
 * The configured API keys, parsed and checked once at startup. A misconfiguration (security on and
 * no keys, a malformed entry, a short token) stops the service with a message naming the setting,
 * never the token.
 */
@Startup // validated when the service starts, not on the first request
@Singleton
public class ApiKeys {
    /** 128 bits of a random hex or base64 token; anything shorter is guessable. */
    public static final int MIN_TOKEN_LENGTH = 24;

    private final boolean enabled;
    private final Map<String, byte[]> tokensByPrincipal;

    @Inject
    ApiKeys(SecuritySettings settings) {
        this(settings.enabled(), settings.apiKeys().orElse(List.of()));
    }

    ApiKeys(boolean enabled, List<String> entries) {
        this.enabled = enabled;
        this.tokensByPrincipal = parse(entries);
        if (enabled && tokensByPrincipal.isEmpty()) {
            throw new IllegalStateException(
                    "pipeline.security.enabled is true but pipeline.security.api-keys is empty: "
                            + "set PIPELINE_SECURITY_API_KEYS=principal:token[,principal:token...]");
        }
    }

    public boolean enabled() {
        return enabled;
    }

    /** The principal whose token this is, comparing in constant time. */
    public Optional<String> principalOf(String token) {
        byte[] presented = token.getBytes(StandardCharsets.UTF_8);
        String match = null;
        for (Map.Entry<String, byte[]> entry : tokensByPrincipal.entrySet()) {
            if (MessageDigest.isEqual(entry.getValue(), presented)) {
                match = entry.getKey();
            }
        }
        return Optional.ofNullable(match);
    }

    private static Map<String, byte[]> parse(List<String> entries) {
        Map<String, byte[]> result = new LinkedHashMap<>();
        for (int i = 0; i < entries.size(); i++) {
            String entry = entries.get(i).trim();
            int colon = entry.indexOf(':');
            if (colon <= 0 || colon == entry.length() - 1) {
                throw new IllegalStateException("pipeline.security.api-keys entry " + (i + 1)
                        + " must be principal:token (the token is not shown)");
            }
            String principal = entry.substring(0, colon);
            String token = entry.substring(colon + 1);
            if (token.length() < MIN_TOKEN_LENGTH) {
                throw new IllegalStateException("pipeline.security.api-keys token of '" + principal
                        + "' must be at least " + MIN_TOKEN_LENGTH + " characters, got " + token.length());
            }
            if (result.put(principal, token.getBytes(StandardCharsets.UTF_8)) != null) {
                throw new IllegalStateException("pipeline.security.api-keys lists principal '" + principal + "' twice");
            }
        }
        return result;
    }
}
