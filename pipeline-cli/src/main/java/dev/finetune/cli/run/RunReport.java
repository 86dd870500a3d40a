package dev.finetune.cli.run;

import com.fasterxml.jackson.databind.JsonNode;
import dev.finetune.cli.trace.CollectedSpan;
import java.io.PrintStream;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/** What a pipeline run prints at the end of each stage: the numbers a person checks. */
final class RunReport {
    private static final List<String> METRICS =
            List.of("eval_loss", "perplexity", "mean_token_accuracy", "exact_match", "token_f1", "rouge_l");

    /** Test answers printed after the metrics. */
    private static final int SAMPLES_SHOWN = 3;

    private RunReport() {}

    static void preparation(PrintStream out, JsonNode version, JsonNode report) {
        JsonNode m = version.path("manifest");
        out.printf(
                "dataset %s: %d lines, %d invalid, %d exact and %d near duplicates removed -> train %d, validation %d,"
                        + " test %d (%s)%n",
                m.path("datasetId").asText(),
                m.path("lines").asLong(),
                m.path("invalidLines").asLong(),
                m.path("exactDuplicates").asLong(),
                m.path("nearDuplicates").asLong(),
                m.path("train").path("examples").asLong(),
                m.path("validation").path("examples").asLong(),
                m.path("test").path("examples").asLong(),
                m.path("kind").asText());
        if (report.path("errors").size() > 0) {
            out.println("  dropped: " + lineErrors(report, 5));
        }
    }

    /** {@code line 2: invalid JSON ...; line 7, messages[1].content: is required} for the first {@code max}. */
    static String lineErrors(JsonNode report, int max) {
        List<String> lines = new java.util.ArrayList<>();
        for (JsonNode error : report.path("errors")) {
            if (lines.size() == max) {
                lines.add("... (" + report.path("invalidLines").asLong() + " invalid lines in all)");
                break;
            }
            String field = error.path("field").asText("");
            lines.add("line " + error.path("line").asLong() + (field.isEmpty() ? "" : ", " + field) + ": "
                    + error.path("reason").asText());
        }
        return String.join("; ", lines);
    }

    static void evaluation(PrintStream out, JsonNode report) {
        out.printf(
                "evaluation %s: %s%n",
                report.path("evaluationId").asText(), report.path("status").asText());
        // "prompted": the base model with a system prompt and worked examples (the prompt baseline).
        out.printf("  %-20s %12s %12s %12s %12s%n", "metric", "base", "prompted", "fine-tuned", "better by");
        for (String metric : METRICS) {
            if (report.path("metrics").has(metric)) {
                JsonNode prompted = report.path("promptBaselineMetrics").path(metric);
                out.printf(
                        "  %-20s %12s %12s %12s %12s%n",
                        metric,
                        cell(report.path("baseMetrics").path(metric).asDouble(), false),
                        prompted.isNumber() ? cell(prompted.asDouble(), false) : "-",
                        cell(report.path("metrics").path(metric).asDouble(), false),
                        cell(report.path("improvement").path(metric).asDouble(), true));
            }
        }
        for (JsonNode gate : report.path("gates")) {
            out.printf(
                    "  gate %s: %s (%s)%n",
                    gate.path("gate").asText(),
                    gate.path("passed").asBoolean() ? "passed" : "FAILED",
                    gate.path("detail").asText());
        }
        // The first test examples as the models answered them: what the numbers above mean.
        JsonNode generations = report.path("generations");
        JsonNode base = report.path("baseGenerations");
        int shown = Math.min(SAMPLES_SHOWN, generations.size());
        if (shown > 0) {
            out.printf("  test answers (%d of %d, greedy):%n", shown, generations.size());
        }
        for (int i = 0; i < shown; i++) {
            out.printf(
                    "    expected    \"%s\"%n",
                    oneLine(generations.get(i).path("reference").asText()));
            out.printf(
                    "    fine-tuned  \"%s\"%s%n",
                    oneLine(generations.get(i).path("generated").asText()),
                    generations.get(i).path("exactMatch").asDouble() == 1 ? "  (exact)" : "");
            if (base.has(i)) {
                out.printf(
                        "    base        \"%s\"%n",
                        oneLine(base.get(i).path("generated").asText()));
            }
        }
    }

    /** A metric in a 12-wide column: 4 decimals, or 4 significant digits once that would not fit. */
    static String cell(double value, boolean signed) {
        if (Math.abs(value) >= 1e6) {
            return String.format(Locale.ROOT, signed ? "%+.3e" : "%.3e", value);
        }
        return String.format(Locale.ROOT, signed ? "%+.4f" : "%.4f", value);
    }

    static void registration(PrintStream out, String model, long version, JsonNode view) {
        JsonNode v = view.path("version"); // the registry's VersionDetail: version, card, metrics, lineage
        out.printf(
                "registered %s version %d (%s, evaluation %s) under registry/%s/%d/%n",
                model,
                version,
                v.path("kind").asText(),
                v.path("evaluationStatus").asText(),
                model,
                version);
        out.println("  aliases: " + v.path("aliases"));
        List<String> files = new java.util.ArrayList<>();
        v.path("files").fieldNames().forEachRemaining(files::add);
        out.println("  files: " + String.join(", ", files));
        JsonNode lineage = view.path("lineage");
        if (!lineage.isMissingNode()) {
            out.println("  lineage: dataset " + v.path("datasetId").asText() + ", job "
                    + lineage.path("jobId").asText() + ", trace "
                    + lineage.path("traceId").asText());
        }
    }

    static void trace(PrintStream out, String traceId, List<CollectedSpan> spans) {
        Map<String, List<CollectedSpan>> byService =
                new TreeMap<>(spans.stream().collect(Collectors.groupingBy(CollectedSpan::service)));
        out.printf("trace %s: %d spans from %d services%n", traceId, spans.size(), byService.size());
        byService.forEach((service, list) -> {
            out.printf("  %-17s %3d spans%n", service, list.size());
            // A name repeated by work done many times (once per checkpoint) shows with its count.
            Map<String, Long> names = new TreeMap<>(
                    list.stream().collect(Collectors.groupingBy(CollectedSpan::name, Collectors.counting())));
            StringBuilder line = new StringBuilder("    ");
            names.forEach((name, count) -> {
                String entry = name + (count > 1 ? " x" + count : "") + ", ";
                if (line.length() + entry.length() > 104) {
                    out.println(line.toString().stripTrailing());
                    line.setLength(0);
                    line.append("    ");
                }
                line.append(entry);
            });
            out.println(line.substring(0, line.length() - 2));
        });
    }

    /** On one line, and printable: a random model's bytes include control characters a terminal would obey. */
    private static String oneLine(String text) {
        return abbreviate(text.replace('\n', ' ').replaceAll("\\p{Cntrl}", "\uFFFD"), 90);
    }

    private static String abbreviate(String text, int max) {
        return text.length() <= max ? text : text.substring(0, max - 3) + "...";
    }
}
