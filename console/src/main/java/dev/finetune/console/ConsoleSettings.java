package dev.finetune.console;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.net.URI;
import java.time.Duration;
import java.util.Optional;

/** Where the services are and how the console keeps its sessions. */
@ConfigMapping(prefix = "console")
public interface ConsoleSettings {
    /** Base URL of the training-service (jobs and their event streams). */
    URI trainingUrl();

    /** Base URL of the dataset-service. */
    URI datasetUrl();

    /** Base URL of the eval-service. */
    URI evalUrl();

    /** Base URL of the registry-service. */
    URI registryUrl();

    /** Jaeger's UI, for the link from a job to its trace ({@code <url>/search?tags=...}); none: no link. */
    Optional<URI> jaegerUrl();

    /** Whether the session cookie is sent over HTTPS only; off only for plain-HTTP local runs. */
    @WithDefault("true")
    boolean cookieSecure();

    /** A session unused this long is signed out. */
    @WithDefault("8h")
    Duration sessionIdleTimeout();
}
