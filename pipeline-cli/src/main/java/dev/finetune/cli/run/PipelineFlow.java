package dev.finetune.cli.run;

import com.fasterxml.jackson.databind.JsonNode;
import dev.finetune.cli.datasets.UpstreamSubmission;
import dev.finetune.cli.http.MultipartBody;
import dev.finetune.cli.http.ServiceClient;
import dev.finetune.cli.http.Services;
import dev.finetune.cli.jobs.JobWatcher;
import dev.finetune.cli.trace.CollectedSpan;
import dev.finetune.cli.trace.TraceTree;
import dev.finetune.contracts.JobIds;
import dev.finetune.contracts.RegisteredModelNames;
import dev.finetune.events.DatasetFormat;
import dev.finetune.llm.cli.LlmCli;
import dev.finetune.llm.cli.ProgressBar;
import dev.finetune.storage.ObjectKeys;
import dev.finetune.storage.ObjectStore;
import dev.finetune.storage.ObjectStoreConfig;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine;

/**
 * Dataset in, registered adapter out, the way production sees it: a base model in the object store,
 * a training trigger and a promotion policy set over the APIs, then an upstream system's
 * {@code datasets.submitted} event, and nothing else: preparation, training, evaluation and
 * registration follow from the events. This class only watches, through the services' APIs and
 * the spans they export, and says which stage failed if one does.
 */
public final class PipelineFlow {
    public static final String UPSTREAM_BUCKET = "upstream-exports";
    private static final Duration POLL = Duration.ofMillis(500);
    /** Two of the services' export intervals (QUARKUS_OTEL_BSP_SCHEDULE_DELAY, set by LocalPipeline). */
    private static final Duration QUIET = Duration.ofSeconds(2);

    /**
     * @param datasetFile the JSONL file the upstream system exports
     * @param datasetName its dataset name
     * @param baseModel the base model's name under models/base/
     * @param modelSize {@code init-tiny} options for the generated base model, e.g. --hidden 128
     * @param hyperparameters the trigger's training settings, by their HF/TRL names
     * @param timeout the most the whole run may take
     */
    public record Settings(
            Path datasetFile,
            String datasetName,
            String baseModel,
            List<String> modelSize,
            Map<String, Object> hyperparameters,
            Duration timeout) {

        public String registeredModel() {
            return RegisteredModelNames.of(baseModel, datasetName);
        }
    }

    /** What the run produced, for the summary and for tests. */
    public record Outcome(
            String datasetVersion,
            JsonNode datasetVersionView,
            JsonNode job,
            JsonNode evaluation,
            String model,
            long version,
            JsonNode versionView,
            String traceId,
            List<CollectedSpan> spans) {}

    private final LocalPipeline pipeline;
    private final Services api;
    private final PrintStream out;
    private final Settings settings;
    private final Instant deadline;
    private DeadLetterWatch deadLetters;

    public PipelineFlow(LocalPipeline pipeline, Settings settings, PrintStream out) {
        this.pipeline = pipeline;
        this.api = pipeline.services();
        this.settings = settings;
        this.out = out;
        this.deadline = Instant.now().plus(settings.timeout());
    }

    public Outcome run(Path workDir) throws StageFailedException, InterruptedException {
        try (DeadLetterWatch watch = new DeadLetterWatch(pipeline.stack().kafkaBootstrapServers(), Instant.now())) {
            deadLetters = watch;
            return runWatched(workDir);
        }
    }

    private Outcome runWatched(Path workDir) throws StageFailedException {
        stage(Stage.BASE_MODEL, () -> seedBaseModel(workDir.resolve("base-model")));
        stage(Stage.SUBMIT, this::configure);
        UpstreamSubmission.Submitted submitted = stage(Stage.SUBMIT, this::submit);
        out.println("trace " + submitted.traceId() + " starts with the datasets.submitted event");
        JsonNode prepared = stage(Stage.PREPARATION, this::awaitPreparation);
        String version = prepared.path("ingest").path("version").asText();
        JsonNode job = stage(Stage.TRAINING, () -> train(JobIds.forDataset(settings.datasetName(), version)));
        JsonNode evaluation = stage(Stage.EVALUATION, () -> awaitEvaluation(job));
        JsonNode registration =
                stage(Stage.REGISTRATION, () -> awaitRegistration(job.path("id").asText()));
        String model = registration.path("model").asText();
        long modelVersion = registration.path("version").asLong();
        JsonNode versionView = stage(Stage.REGISTRATION, () -> api.registry()
                .get("api/models/" + ServiceClient.segment(model) + "/versions/" + modelVersion));
        RunReport.registration(out, model, modelVersion, versionView);
        List<CollectedSpan> spans = stage(Stage.TRACE, () -> awaitTrace(submitted.traceId()));
        RunReport.trace(out, submitted.traceId(), spans);
        return new Outcome(
                version, prepared, job, evaluation, model, modelVersion, versionView, submitted.traceId(), spans);
    }

    private Void seedBaseModel(Path dir) throws IOException {
        List<String> args = new ArrayList<>(List.of("init-tiny", "--type", "qwen3", "--out", dir.toString()));
        args.addAll(settings.modelSize());
        int exit = new CommandLine(new LlmCli()).execute(args.toArray(String[]::new));
        if (exit != 0) {
            throw new IllegalStateException("llm init-tiny exited with " + exit);
        }
        // Imported as an operator would (finetune model import): verified, stored with its SHA-256s.
        MultipartBody upload = new MultipartBody().field("name", settings.baseModel());
        try (Stream<Path> files = Files.list(dir)) {
            for (Path file : files.sorted().toList()) {
                upload.file("file", file);
            }
        }
        JsonNode imported = api.registry().postMultipart("api/base-models", upload);
        out.println("base model " + settings.baseModel() + " imported under "
                + ObjectKeys.baseModelPrefix(settings.baseModel()) + " (sha256 "
                + imported.path("model").path("sha256").asText() + ")");
        return null;
    }

    /** What an operator sets once per dataset: train on every prepared version; promote what beats the base. */
    private Void configure() {
        Map<String, Object> trigger = new LinkedHashMap<>();
        trigger.put("baseModel", settings.baseModel());
        trigger.put("method", "lora");
        trigger.put("objective", "sft");
        trigger.put("hyperparameters", settings.hyperparameters());
        api.datasets().put("api/datasets/" + ServiceClient.segment(settings.datasetName()) + "/trigger", trigger);
        Map<String, Object> policy = new LinkedHashMap<>();
        policy.put("alias", "production");
        policy.put("requirePassed", true);
        policy.put("metric", "eval_loss");
        policy.put("minImprovement", 0.0);
        policy.put("autoPromote", true);
        api.registry().put("api/models/" + ServiceClient.segment(settings.registeredModel()) + "/policy", policy);
        out.println(
                "training trigger set on dataset " + settings.datasetName() + " (lora sft " + settings.hyperparameters()
                        + "); promotion policy: production <- versions that pass evaluation and beat eval_loss");
        return null;
    }

    private UpstreamSubmission.Submitted submit() throws Exception {
        var stack = pipeline.stack();
        try (ObjectStore upstream = new ObjectStore(
                ObjectStoreConfig.of(stack.s3Endpoint(), stack.s3AccessKey(), stack.s3SecretKey(), UPSTREAM_BUCKET))) {
            upstream.ensureBucket();
            String key = "exports/" + settings.datasetName() + "/"
                    + settings.datasetFile().getFileName();
            UpstreamSubmission.Submitted submitted = UpstreamSubmission.submit(
                    upstream,
                    key,
                    settings.datasetFile(),
                    settings.datasetName(),
                    DatasetFormat.AUTO,
                    Map.of("source", "finetune run"),
                    stack.kafkaBootstrapServers());
            out.println("upstream: wrote " + submitted.objectUri() + " (sha256 "
                    + submitted.sha256().substring(0, 12) + "...) and published datasets.submitted "
                    + submitted.eventId());
            return submitted;
        }
    }

    private JsonNode awaitPreparation() throws InterruptedException {
        ProgressBar bar = ProgressBar.onStdout("preparation");
        String path = "api/datasets/" + ServiceClient.segment(settings.datasetName()) + "/versions";
        while (true) {
            JsonNode versions = api.datasets().find(path).orElse(null);
            JsonNode latest = versions == null || versions.isEmpty() ? null : versions.get(versions.size() - 1);
            String status = latest == null
                    ? "waiting for ingestion"
                    : latest.path("status").asText();
            switch (status) {
                case "prepared" -> {
                    bar.finish(2, 2, "prepared");
                    RunReport.preparation(out, latest, datasetReport(latest));
                    return latest;
                }
                case "rejected" -> {
                    bar.finish(2, 2, "rejected");
                    throw new IllegalStateException("the dataset was rejected: "
                            + latest.path("manifest").path("rejection").asText() + "; "
                            + RunReport.lineErrors(datasetReport(latest), 5));
                }
                default -> bar.update(latest == null ? 0 : 1, 2, latest == null ? status : "ingested, " + status);
            }
            checkDeadline("the dataset is still " + status);
            Thread.sleep(POLL.toMillis());
        }
    }

    private JsonNode datasetReport(JsonNode version) {
        String v = version.path("ingest").path("version").asText();
        return api.datasets()
                .get("api/datasets/" + ServiceClient.segment(settings.datasetName()) + "/versions/" + v + "/report");
    }

    private JsonNode train(String jobId) throws InterruptedException {
        String path = "api/jobs/" + ServiceClient.segment(jobId);
        while (api.training().find(path).isEmpty()) {
            checkDeadline("job " + jobId + " was never created from the prepared dataset");
            Thread.sleep(POLL.toMillis());
        }
        out.println("training job " + jobId + " requested by the dataset's trigger");
        JsonNode job = new JobWatcher(api.training(), POLL)
                .watch(
                        jobId,
                        ProgressBar.onStdout("training"),
                        deadline,
                        () -> checkDeadline("job " + jobId + " is running"));
        if (!"succeeded".equals(job.path("state").asText())) {
            throw new IllegalStateException(
                    "job " + jobId + " " + job.path("state").asText() + ": "
                            + job.path("failureReason").asText());
        }
        return job;
    }

    private JsonNode awaitEvaluation(JsonNode job) throws InterruptedException {
        String jobId = job.path("id").asText();
        long finalStep = job.path("step").asLong(); // a job may end before totalSteps
        ProgressBar bar = ProgressBar.onStdout("evaluation");
        while (true) {
            JsonNode reports = api.eval().get("api/evaluations?jobId=" + ServiceClient.segment(jobId));
            for (JsonNode report : reports) {
                if (report.path("step").asLong() == finalStep) {
                    bar.finish(1, 1, report.path("status").asText());
                    if ("error".equals(report.path("status").asText())) {
                        throw new IllegalStateException("evaluation of step " + finalStep + " failed: "
                                + report.path("error").asText());
                    }
                    RunReport.evaluation(out, report);
                    return report;
                }
            }
            bar.update(
                    0,
                    1,
                    "scoring step " + finalStep + " against "
                            + job.path("baseModel").asText()
                            + (reports.isEmpty() ? "" : " (" + reports.size() + " earlier checkpoint(s) scored)"));
            checkDeadline("the final checkpoint of " + jobId + " is not evaluated yet");
            Thread.sleep(POLL.toMillis());
        }
    }

    private JsonNode awaitRegistration(String jobId) throws InterruptedException {
        while (true) {
            JsonNode registration = api.registry().get("api/registrations/" + ServiceClient.segment(jobId));
            if ("registered".equals(registration.path("state").asText())) {
                return registration;
            }
            checkDeadline("job " + jobId + " is not registered: "
                    + registration.path("state").asText() + " "
                    + registration.path("detail").asText(""));
            Thread.sleep(POLL.toMillis());
        }
    }

    /**
     * The trace once it is complete: spans from all four services, every one hanging off another
     * except the consumer span of the upstream event. Spans are exported as they end, so the last
     * ones arrive a moment after the registration is visible.
     */
    private List<CollectedSpan> awaitTrace(String traceId) throws InterruptedException {
        Instant until = Instant.now().plusSeconds(30);
        int seen = -1;
        Instant changed = Instant.now();
        while (true) {
            List<CollectedSpan> spans = pipeline.traces().trace(traceId);
            if (spans.size() != seen) {
                seen = spans.size();
                changed = Instant.now();
            }
            boolean complete = TraceTree.services(spans).size() == 4
                    && TraceTree.orphans(spans).size() == 1;
            // Complete, and no span arrived for two export intervals: the last batches are in.
            if (complete && Duration.between(changed, Instant.now()).compareTo(QUIET) >= 0) {
                return spans;
            }
            if (Instant.now().isAfter(until)) {
                throw new IllegalStateException("trace " + traceId + " is incomplete after 30 s: " + spans.size()
                        + " spans from " + TraceTree.services(spans) + ", "
                        + TraceTree.orphans(spans).size()
                        + " without their parent");
            }
            Thread.sleep(POLL.toMillis());
        }
    }

    private void checkDeadline(String state) {
        deadLetters.first().ifPresent(letter -> {
            throw new IllegalStateException(state + ", because " + letter);
        });
        if (Instant.now().isAfter(deadline)) {
            throw new IllegalStateException(
                    state + " after " + settings.timeout().toMinutes() + " min");
        }
    }

    private static <T> T stage(Stage stage, Callable<T> work) throws StageFailedException {
        try {
            return work.call();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StageFailedException(stage, "interrupted", e);
        } catch (Exception e) {
            throw new StageFailedException(
                    stage, Optional.ofNullable(e.getMessage()).orElse(e.toString()), e);
        }
    }
}
