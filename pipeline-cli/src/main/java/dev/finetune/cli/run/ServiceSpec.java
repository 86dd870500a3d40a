package dev.finetune.cli.run;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * How the local run starts each service: its heap, PyTorch threads, and its own settings. The two
 * model services share the machine's cores: training takes two threads, evaluation one.
 */
record ServiceSpec(String name, String heap, int torchThreads, Map<String, String> settings) {
    static final List<ServiceSpec> ALL = List.of(
            // The local run's upstream system writes to this bucket; prod trusts no bucket unless told.
            new ServiceSpec(
                    "dataset-service", "768m", 1, Map.of("DATASET_UPSTREAM_ALLOWED", PipelineFlow.UPSTREAM_BUCKET)),
            new ServiceSpec("training-service", "1536m", 2, Map.of("PIPELINE_TRAINING_WORKER_ID", "local-worker-1")),
            new ServiceSpec("eval-service", "1g", 1, Map.of()),
            // s3:// base-model imports read from here only (the pipeline's own bucket never).
            new ServiceSpec("registry-service", "768m", 1, Map.of("REGISTRY_BASE_MODEL_SOURCES", "model-imports")));

    /**
     * The web console, started once the four answer (it is configured with their addresses). The
     * local run is plain HTTP, so its session cookie cannot be Secure-only.
     */
    static final ServiceSpec CONSOLE = new ServiceSpec("console", "256m", 1, Map.of("CONSOLE_COOKIE_SECURE", "false"));

    /** The packaged service under the repository root. */
    Path jar(Path home) {
        return home.resolve(name).resolve("target/quarkus-app/quarkus-run.jar");
    }

    Path workDir(Path runDir) {
        return runDir.resolve("work").resolve(name);
    }

    /** The settings plus a work directory of its own under {@code workDir}. */
    Map<String, String> env(Path workDir) {
        Map<String, String> env = new java.util.LinkedHashMap<>(settings);
        Path own = workDir(workDir);
        switch (name) {
            case "dataset-service" -> env.put("PIPELINE_DATASET_WORK_DIR", own.toString());
            case "training-service" -> env.put("PIPELINE_TRAINING_WORK_DIR", own.toString());
            case "eval-service" -> env.put("PIPELINE_EVAL_WORK_DIR", own.toString());
            case "registry-service" -> env.put("REGISTRY_WORK_DIR", own.toString());
            case "console" -> {} // keeps nothing on disk
            default -> throw new IllegalStateException("no work directory setting for " + name);
        }
        return env;
    }
}
