package dev.finetune.cli.registry;

import com.fasterxml.jackson.databind.JsonNode;
import dev.finetune.cli.http.ApiCommand;
import dev.finetune.cli.http.ServiceClient;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code finetune registry ...}: registered models, their versions, aliases and downloads. */
@Command(name = "registry", mixinStandardHelpOptions = true, header = "List, promote and download registered adapters.")
public final class RegistryCommand extends ApiCommand {

    @Command(
            name = "models",
            mixinStandardHelpOptions = true,
            header = "Lists registered models with their latest version and aliases.")
    void models() {
        for (JsonNode m : services().registry().get("api/models")) {
            out().printf(
                            "%-40s latest %-4s aliases %s%n",
                            m.path("model").asText(m.path("name").asText()),
                            m.path("latestVersion").asText(),
                            m.path("aliases"));
        }
    }

    @Command(
            name = "versions",
            mixinStandardHelpOptions = true,
            header = "Lists a model's available versions with metrics, aliases, the version each continued from and the"
                    + " reward model it was trained against.")
    void versions(@Parameters(paramLabel = "MODEL") String model) {
        for (JsonNode v : services().registry().get("api/models/" + ServiceClient.segment(model) + "/versions")) {
            out().printf(
                            "v%-4d %-10s %-8s eval %-13s eval_loss %-8s job %s parent %s reward_model %s aliases %s%n",
                            v.path("version").asLong(),
                            v.path("status").asText(),
                            v.path("kind").asText(),
                            v.path("evaluationStatus").asText(),
                            v.path("metrics").has("eval_loss")
                                    ? String.format(
                                            "%.4f",
                                            v.path("metrics").path("eval_loss").asDouble())
                                    : "-",
                            v.path("jobId").asText(),
                            parent(v.path("parent")),
                            parent(v.path("rewardModel")),
                            v.path("aliases"));
        }
    }

    /** {@code model@vN} of a registered version (a continued training's parent, a policy's reward model), or "-". */
    static String parent(JsonNode parent) {
        return parent.isObject()
                ? parent.path("model").asText() + "@v" + parent.path("version").asLong()
                : "-";
    }

    @Command(
            name = "promote",
            mixinStandardHelpOptions = true,
            header = "Points an alias (default production) at a version, subject to the model's promotion policy.")
    void promote(
            @Parameters(paramLabel = "MODEL") String model,
            @Parameters(paramLabel = "VERSION") long version,
            @Option(names = "--alias", defaultValue = "production", paramLabel = "ALIAS") String alias,
            @Option(
                            names = "--expected-version",
                            paramLabel = "N",
                            description = "Refuse unless the alias is at N now (0: unset).")
                    Long expectedVersion,
            @Option(names = "--reason", paramLabel = "TEXT") String reason) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("version", version);
        if (expectedVersion != null) {
            body.put("expectedVersion", expectedVersion);
        }
        if (reason != null) {
            body.put("reason", reason);
        }
        JsonNode moved = services()
                .registry()
                .put("api/models/" + ServiceClient.segment(model) + "/aliases/" + ServiceClient.segment(alias), body);
        out().println(model + " " + alias + " -> v" + moved.path("version").asLong());
    }

    @Command(
            name = "download",
            mixinStandardHelpOptions = true,
            header = "Downloads a version's files into a directory, each checked against its SHA-256.")
    void download(
            @Parameters(paramLabel = "MODEL") String model,
            @Parameters(paramLabel = "VERSION") long version,
            @Option(names = "--out", required = true, paramLabel = "DIR") Path out) {
        VersionDownload.download(services().registry(), model, version, out, out());
    }
}
