package dev.finetune.service.security;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.util.List;
import java.util.Optional;

/**
 * Who may call a service's HTTP API ({@code /api/*}). Health, OpenAPI and metrics stay open for
 * probes and scrapers.
 */
@ConfigMapping(prefix = "pipeline.security")
public interface SecuritySettings {
    /** Whether {@code /api/*} requires an API key. On by default; the dev and test profiles turn it off. */
    @WithDefault("true")
    boolean enabled();

    /**
     * The accepted API keys as {@code principal:role:token} entries, role one of {@code viewer},
     * {@code operator}, {@code admin} ({@link dev.finetune.security.Roles}), e.g. from a Kubernetes Secret through the
     * environment variable {@code PIPELINE_SECURITY_API_KEYS=ci:operator:...,alice:admin:...}. An entry
     * without a role stops the service. Tokens must be at least {@value ApiKeys#MIN_TOKEN_LENGTH}
     * characters.
     */
    Optional<List<String>> apiKeys();
}
