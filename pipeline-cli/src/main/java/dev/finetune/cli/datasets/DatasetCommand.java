package dev.finetune.cli.datasets;

import com.fasterxml.jackson.databind.JsonNode;
import dev.finetune.cli.http.ApiCommand;
import dev.finetune.cli.http.ServiceClient;
import dev.finetune.events.DatasetFormat;
import dev.finetune.storage.ObjectStore;
import dev.finetune.storage.ObjectStoreConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code finetune dataset ...}: upload or publish datasets and read what the dataset-service made of them. */
@Command(name = "dataset", mixinStandardHelpOptions = true, header = "Upload, publish and inspect datasets.")
public final class DatasetCommand extends ApiCommand {

    @Command(
            name = "upload",
            mixinStandardHelpOptions = true,
            header = "Uploads a JSONL file as a new version (REST); prints the version.")
    void upload(
            @Parameters(paramLabel = "FILE") Path file,
            @Option(names = "--name", required = true, paramLabel = "NAME") String name,
            @Option(
                            names = "--format",
                            defaultValue = "auto",
                            paramLabel = "FORMAT",
                            description =
                                    "auto, alpaca, chat, sharegpt, prompt_completion, preference, unpaired_preference, multiple_choice or tokenized (default"
                                            + " ${DEFAULT-VALUE}).")
                    String format) {
        requireFile(file);
        JsonNode view = services()
                .datasets()
                .postFile(
                        "api/datasets/" + ServiceClient.segment(name) + "/versions?format="
                                + ServiceClient.segment(format),
                        file,
                        "application/x-ndjson");
        out().printf(
                        "%s version %s (sha256 %s, %d bytes)%s%n",
                        name,
                        view.path("version").asText(),
                        view.path("sha256").asText(),
                        view.path("sizeBytes").asLong(),
                        view.path("duplicate").asBoolean() ? ": these bytes were already this version" : "");
    }

    @Command(
            name = "publish",
            mixinStandardHelpOptions = true,
            header = "Acts as an upstream system: writes FILE to a bucket and publishes a datasets.submitted event.")
    void publish(
            @Parameters(paramLabel = "FILE") Path file,
            @Option(names = "--name", required = true, paramLabel = "NAME") String name,
            @Option(names = "--bucket", defaultValue = "upstream-exports", paramLabel = "BUCKET") String bucket,
            @Option(
                            names = "--key",
                            paramLabel = "KEY",
                            description = "Object key (default exports/<name>/<file name>).")
                    String key,
            @Option(names = "--format", defaultValue = "auto", paramLabel = "FORMAT") String format,
            @Option(
                            names = "--kafka",
                            defaultValue = "${env:KAFKA_BOOTSTRAP_SERVERS:-127.0.0.1:9092}",
                            paramLabel = "SERVERS")
                    String kafka,
            @Option(
                            names = "--s3-endpoint",
                            defaultValue = "${env:PIPELINE_OBJECT_STORE_ENDPOINT:-http://127.0.0.1:9000}",
                            paramLabel = "URL")
                    String endpoint,
            @Option(
                            names = "--s3-access-key",
                            defaultValue = "${env:PIPELINE_OBJECT_STORE_ACCESS_KEY:-minioadmin}",
                            paramLabel = "KEY")
                    String accessKey,
            @Option(
                            names = "--s3-secret-key",
                            defaultValue = "${env:PIPELINE_OBJECT_STORE_SECRET_KEY:-minioadmin}",
                            paramLabel = "SECRET")
                    String secretKey)
            throws Exception {
        requireFile(file);
        String objectKey = key != null ? key : "exports/" + name + "/" + file.getFileName();
        try (ObjectStore store = new ObjectStore(ObjectStoreConfig.of(endpoint, accessKey, secretKey, bucket))) {
            store.ensureBucket();
            UpstreamSubmission.Submitted submitted = UpstreamSubmission.submit(
                    store,
                    objectKey,
                    file,
                    name,
                    DatasetFormat.fromCode(format),
                    Map.of("source", "finetune-cli"),
                    kafka);
            out().printf(
                            "published datasets.submitted %s for %s (sha256 %s), trace %s%n",
                            submitted.eventId(), submitted.objectUri(), submitted.sha256(), submitted.traceId());
        }
    }

    @Command(
            name = "list",
            mixinStandardHelpOptions = true,
            header = "Lists datasets, or a dataset's versions with their status.")
    void list(@Parameters(paramLabel = "NAME", arity = "0..1") String name) {
        ServiceClient datasets = services().datasets();
        if (name == null) {
            datasets.get("api/datasets").forEach(n -> out().println(n.asText()));
            return;
        }
        for (JsonNode v : datasets.get("api/datasets/" + ServiceClient.segment(name) + "/versions")) {
            JsonNode m = v.path("manifest");
            out().printf(
                            "%-8s %-10s %s%s%n",
                            v.path("ingest").path("version").asText(),
                            v.path("status").asText(),
                            v.path("ingest").path("sha256").asText(),
                            m.isObject()
                                    ? String.format(
                                            "  train %d / validation %d / test %d, %d invalid lines",
                                            m.path("train").path("examples").asLong(),
                                            m.path("validation")
                                                    .path("examples")
                                                    .asLong(),
                                            m.path("test").path("examples").asLong(),
                                            m.path("invalidLines").asLong())
                                    : "");
        }
    }

    @Command(
            name = "report",
            mixinStandardHelpOptions = true,
            header = "Prints a version's invalid lines: line number, field, reason.")
    void report(@Parameters(paramLabel = "NAME") String name, @Parameters(paramLabel = "VERSION") String version) {
        JsonNode report = services()
                .datasets()
                .get("api/datasets/" + ServiceClient.segment(name) + "/versions/" + ServiceClient.segment(version)
                        + "/report");
        out().printf(
                        "%d lines, %d invalid%n",
                        report.path("lines").asLong(),
                        report.path("invalidLines").asLong());
        for (JsonNode e : report.path("errors")) {
            out().printf(
                            "line %d, %s: %s (%s)%n",
                            e.path("line").asLong(),
                            e.path("field").asText(),
                            e.path("reason").asText(),
                            e.path("value").asText());
        }
    }

    @Command(
            name = "trigger",
            mixinStandardHelpOptions = true,
            header = "Sets the training trigger: every prepared version requests a job with this recipe.")
    void trigger(
            @Parameters(paramLabel = "NAME") String name,
            @Option(names = "--base-model", required = true, paramLabel = "MODEL") String baseModel,
            @Option(names = "--method", defaultValue = "lora", paramLabel = "full|lora|qlora") String method,
            @Option(names = "--objective", defaultValue = "sft", paramLabel = "sft|dpo|orpo|kto") String objective,
            @Option(
                            names = "--set",
                            paramLabel = "KEY=VALUE",
                            description =
                                    "A training setting by its HF/TRL name, e.g. --set learning_rate=2e-4 (`bin/llm settings` lists them).")
                    Map<String, String> hyperparameters) {
        Map<String, Object> trigger = new LinkedHashMap<>();
        trigger.put("baseModel", baseModel);
        trigger.put("method", method);
        trigger.put("objective", objective);
        trigger.put("hyperparameters", SetOptions.parse(hyperparameters));
        JsonNode stored =
                services().datasets().put("api/datasets/" + ServiceClient.segment(name) + "/trigger", trigger);
        out().println("trigger set: " + stored);
    }

    private static void requireFile(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("no such file: " + file);
        }
    }
}
