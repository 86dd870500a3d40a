package dev.finetune.cli.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import dev.finetune.cli.datasets.SetOptions;
import dev.finetune.cli.http.ApiCommand;
import dev.finetune.cli.http.ServiceClient;
import dev.finetune.llm.cli.ProgressBar;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code finetune job ...}: create, follow, cancel and list training jobs. */
@Command(name = "job", mixinStandardHelpOptions = true, header = "Create, watch, cancel and list training jobs.")
public final class JobCommand extends ApiCommand {

    @Command(
            name = "create",
            mixinStandardHelpOptions = true,
            header = "Creates a training job; with --watch, follows it to the end.")
    int create(
            @Option(names = "--base-model", required = true, paramLabel = "MODEL") String baseModel,
            @Option(names = "--dataset", required = true, paramLabel = "NAME@VERSION") String dataset,
            @Option(names = "--method", defaultValue = "lora", paramLabel = "full|lora|qlora") String method,
            @Option(names = "--objective", defaultValue = "sft", paramLabel = "sft|dpo|orpo|kto") String objective,
            @Option(
                            names = "--set",
                            paramLabel = "KEY=VALUE",
                            description =
                                    "A training setting by its HF/TRL name, e.g. --set learning_rate=2e-4 (`bin/llm settings` lists them).")
                    Map<String, String> hyperparameters,
            @Option(names = "--suffix", paramLabel = "SUFFIX") String suffix,
            @Option(names = "--idempotency-key", paramLabel = "KEY") String idempotencyKey,
            @Option(names = "--watch", description = "Follow the job with a progress bar until it ends.") boolean watch)
            throws InterruptedException {
        int at = dataset.lastIndexOf('@');
        if (at <= 0 || at == dataset.length() - 1) {
            throw new IllegalArgumentException("--dataset must be NAME@VERSION, got '" + dataset + "'");
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("baseModel", baseModel);
        body.put("dataset", Map.of("name", dataset.substring(0, at), "version", dataset.substring(at + 1)));
        body.put("method", method);
        body.put("objective", objective);
        body.put("hyperparameters", SetOptions.parse(hyperparameters));
        if (suffix != null) {
            body.put("suffix", suffix);
        }
        if (idempotencyKey != null) {
            body.put("idempotencyKey", idempotencyKey);
        }
        JsonNode job = services().training().post("api/jobs", body);
        String id = job.path("id").asText();
        out().println("job " + id + " " + job.path("state").asText());
        return watch ? watch(id, Duration.ofHours(24)) : 0;
    }

    @Command(
            name = "watch",
            mixinStandardHelpOptions = true,
            header = "Follows a job: progress bar, loss, ETA; exits 0 if it succeeds.")
    int watch(
            @Parameters(paramLabel = "JOB") String id,
            @Option(names = "--timeout", defaultValue = "PT24H", paramLabel = "DURATION") Duration timeout)
            throws InterruptedException {
        JsonNode job = new JobWatcher(services().training(), Duration.ofSeconds(1))
                .watch(id, ProgressBar.onStdout("training"), Instant.now().plus(timeout));
        String state = job.path("state").asText();
        out().println("job " + id + " " + state
                + (job.hasNonNull("failureReason")
                        ? ": " + job.path("failureReason").asText()
                        : "")
                + (job.hasNonNull("resultPrefix")
                        ? " -> " + job.path("resultPrefix").asText()
                        : ""));
        return "succeeded".equals(state) ? 0 : 1;
    }

    @Command(
            name = "cancel",
            mixinStandardHelpOptions = true,
            header = "Cancels a job; a running job stops within a step or two, keeping its last checkpoint.")
    void cancel(@Parameters(paramLabel = "JOB") String id) {
        JsonNode job = services().training().post("api/jobs/" + ServiceClient.segment(id) + "/cancel", Map.of());
        out().println("job " + id + " " + job.path("state").asText()
                + (job.path("cancelRequested").asBoolean() ? " (cancel requested)" : ""));
    }

    /** The training-service's default page of jobs. */
    private static final int DEFAULT_PAGE = 100;

    @Command(
            name = "list",
            mixinStandardHelpOptions = true,
            header = "Lists jobs with state and progress, a page at a time in id order.")
    void list(
            @Option(
                            names = "--limit",
                            defaultValue = "" + DEFAULT_PAGE,
                            description = "Jobs per page, 1-1000 (default 100).")
                    int limit,
            @Option(names = "--after", paramLabel = "JOB", description = "Start after this job id (the next page).")
                    String after) {
        String query = "api/jobs"
                + (limit == DEFAULT_PAGE && after == null
                        ? "" // the service's default page
                        : "?limit=" + limit + (after == null ? "" : "&after=" + ServiceClient.segment(after)));
        JsonNode page = services().training().get(query);
        for (JsonNode job : page) {
            out().printf(
                            "%-40s %-10s %5d/%-5d %s@%s %s%n",
                            job.path("id").asText(),
                            job.path("state").asText(),
                            job.path("step").asLong(),
                            job.path("totalSteps").asLong(),
                            job.path("datasetName").asText(),
                            job.path("datasetVersion").asText(),
                            job.path("baseModel").asText());
        }
        if (page.size() == limit) {
            out().println("(more: job list --after "
                    + page.get(page.size() - 1).path("id").asText() + ")");
        }
    }
}
