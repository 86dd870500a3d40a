package dev.finetune.cli.http;

import java.net.URI;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * Where the services are and the API key to present: options, or FINETUNE_* environment variables.
 * Inherited, so they may be given after any subcommand ({@code finetune job list --api-key ...}).
 */
public final class ServiceOptions {
    @Option(
            scope = ScopeType.INHERIT,
            names = "--dataset-url",
            paramLabel = "URL",
            defaultValue = "${env:FINETUNE_DATASET_URL:-http://127.0.0.1:8081}",
            description = "dataset-service (env FINETUNE_DATASET_URL, default ${DEFAULT-VALUE}).")
    URI datasets;

    @Option(
            scope = ScopeType.INHERIT,
            names = "--training-url",
            paramLabel = "URL",
            defaultValue = "${env:FINETUNE_TRAINING_URL:-http://127.0.0.1:8082}",
            description = "training-service (env FINETUNE_TRAINING_URL, default ${DEFAULT-VALUE}).")
    URI training;

    @Option(
            scope = ScopeType.INHERIT,
            names = "--eval-url",
            paramLabel = "URL",
            defaultValue = "${env:FINETUNE_EVAL_URL:-http://127.0.0.1:8083}",
            description = "eval-service (env FINETUNE_EVAL_URL, default ${DEFAULT-VALUE}).")
    URI eval;

    @Option(
            scope = ScopeType.INHERIT,
            names = "--registry-url",
            paramLabel = "URL",
            defaultValue = "${env:FINETUNE_REGISTRY_URL:-http://127.0.0.1:8084}",
            description = "registry-service (env FINETUNE_REGISTRY_URL, default ${DEFAULT-VALUE}).")
    URI registry;

    @Option(
            scope = ScopeType.INHERIT,
            names = "--api-key",
            paramLabel = "TOKEN",
            defaultValue = "${env:FINETUNE_API_KEY}",
            description = "API key sent as a Bearer token (env FINETUNE_API_KEY); its role (viewer, operator or"
                    + " admin) decides what it may do. Not needed in the dev profile.")
    String apiKey;

    public Services services() {
        return Services.at(datasets, training, eval, registry, apiKey);
    }
}
