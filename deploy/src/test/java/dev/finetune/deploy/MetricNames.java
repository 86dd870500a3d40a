package dev.finetune.deploy;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The metrics the services expose at /q/metrics (issue 15, item 1), with their labels, and a rough
 * reading of the metric names and label matchers in a PromQL expression. The dashboard and the alerts
 * may only use these: a metric renamed in a service must be renamed here, which fails the dashboard
 * and alert tests until they follow.
 */
final class MetricNames {
    /** Labels every series gets from its scrape. */
    static final Set<String> TARGET_LABELS = Set.of("job", "instance");

    /** Name (as exposed; histograms and summaries by their base name) and its labels. */
    static final Map<String, Set<String>> KNOWN = new LinkedHashMap<>();

    /** Histograms and summaries: exposed as _bucket (histograms), _count, _sum and, by Micrometer, _max. */
    static final Set<String> DISTRIBUTIONS = new TreeSet<>();

    static {
        // training-service
        metric("finetune_job_state_transitions_total", "state");
        metric("finetune_jobs", "state");
        distribution("finetune_training_step_duration_seconds", "method", "objective");
        for (String perJob : List.of(
                "finetune_training_tokens_per_second",
                "finetune_training_loss",
                "finetune_training_learning_rate",
                "finetune_training_grad_norm",
                "finetune_training_step",
                "finetune_training_total_steps")) {
            metric(perJob, "job_id");
        }
        distribution("finetune_checkpoint_upload_duration_seconds");
        metric("finetune_checkpoint_upload_bytes_total");
        // dataset-service
        metric("finetune_dataset_lines_total", "outcome", "reason");
        metric("finetune_dataset_preparations_total", "outcome");
        // eval-service
        distribution("finetune_evaluation_duration_seconds");
        metric("finetune_evaluation_gate_outcomes_total", "outcome");
        // registry-service
        metric("finetune_registry_versions_registered_total");
        metric("finetune_registry_promotions_total", "alias");
        // every service
        metric("finetune_kafka_dead_lettered_total", "topic", "group");
        metric("finetune_kafka_consumer_lag_records", "topic", "group");
        distribution("finetune_object_store_request_duration_seconds", "operation", "outcome");
        metric("finetune_object_store_errors_total", "operation");
        // Quarkus' and Micrometer's own
        distribution("http_server_requests_seconds", "method", "uri", "status", "outcome");
        metric("jvm_memory_used_bytes", "area", "id");
        metric("process_cpu_usage");
        // Prometheus' own, per target
        metric("up");
    }

    private static final Pattern STRING = Pattern.compile("\"(\\\\.|[^\"\\\\])*\"|'(\\\\.|[^'\\\\])*'|`[^`]*`");
    private static final Pattern RANGE = Pattern.compile("\\[[^\\]]*\\]");
    private static final Pattern LABEL_LIST =
            Pattern.compile("\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)");
    /** An identifier not preceded by part of a number or name, and not a function call. */
    private static final Pattern IDENTIFIER =
            Pattern.compile("(?<![a-zA-Z0-9_:.$])[a-zA-Z_:][a-zA-Z0-9_:]*+(?!\\s*\\()(\\s*\\{[^}]*\\})?");

    private static final Pattern MATCHER_LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)\\s*(=~|!~|!=|=)");
    private static final Set<String> KEYWORDS = Set.of("and", "or", "unless", "bool", "offset", "inf", "nan");

    private MetricNames() {}

    /** A selector in an expression: a metric name and the labels its matchers name. */
    record Selector(String metric, Set<String> labels) {}

    /** The selectors of an expression, read roughly: enough for the PromQL of our dashboard and alerts. */
    static List<Selector> selectors(String expr) {
        // String contents blanked first (quotes kept), so label values never read as names or brackets.
        String text = STRING.matcher(expr).replaceAll("\"\"");
        text = RANGE.matcher(text).replaceAll(" ");
        text = LABEL_LIST.matcher(text).replaceAll(" ");
        List<Selector> found = new ArrayList<>();
        Matcher m = IDENTIFIER.matcher(text);
        while (m.find()) {
            String whole = m.group();
            int brace = whole.indexOf('{');
            String name = (brace < 0 ? whole : whole.substring(0, brace)).strip();
            if (KEYWORDS.contains(name.toLowerCase())) {
                continue;
            }
            Set<String> labels = new TreeSet<>();
            if (brace >= 0) {
                Matcher label = MATCHER_LABEL.matcher(whole.substring(brace));
                while (label.find()) {
                    labels.add(label.group(1));
                }
            }
            found.add(new Selector(name, labels));
        }
        return found;
    }

    /** What is wrong with a selector: an unknown metric or a label the metric does not have; empty if nothing. */
    static String problem(Selector selector) {
        String base = KNOWN.containsKey(selector.metric()) ? selector.metric() : distributionOf(selector.metric());
        if (base == null) {
            return selector.metric() + " is not a metric the services expose (MetricNames.KNOWN)";
        }
        if (DISTRIBUTIONS.contains(selector.metric())) {
            return selector.metric() + " is a histogram or summary: query its _bucket, _count, _sum or _max series";
        }
        Set<String> allowed = new TreeSet<>(KNOWN.get(base));
        allowed.addAll(TARGET_LABELS);
        if (selector.metric().endsWith("_bucket")) {
            allowed.add("le");
        }
        Set<String> unknown = new TreeSet<>(selector.labels());
        unknown.removeAll(allowed);
        return unknown.isEmpty() ? "" : selector.metric() + " has no label " + unknown + " (it has " + allowed + ")";
    }

    /** The base name a {@code _bucket}, {@code _count}, {@code _sum} or {@code _max} series belongs to. */
    private static String distributionOf(String series) {
        for (String suffix : List.of("_bucket", "_count", "_sum", "_max")) {
            if (series.endsWith(suffix)) {
                String base = series.substring(0, series.length() - suffix.length());
                if (DISTRIBUTIONS.contains(base)) {
                    return base;
                }
            }
        }
        return null;
    }

    /** The base name a used series counts for. */
    static String baseOf(String series) {
        String base = distributionOf(series);
        return base != null ? base : series;
    }

    private static void metric(String name, String... labels) {
        KNOWN.put(name, Set.of(labels));
    }

    private static void distribution(String name, String... labels) {
        KNOWN.put(name, Set.of(labels));
        DISTRIBUTIONS.add(name);
    }
}
