package dev.finetune.deploy.validation;

import dev.finetune.deploy.validation.PrometheusRule.Rule;
import dev.finetune.deploy.validation.PrometheusRule.RuleGroup;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * What Prometheus needs to load rule groups, and what an operator needs from an alert: groups with
 * unique names and rules; each rule either an alert or a record with an expression whose brackets
 * balance; durations Prometheus can parse; and on every alert a {@code severity} label routing can use
 * and {@code summary} and {@code description} annotations a person can act on. The same checks run on
 * a PrometheusRule's {@code spec.groups} and on a plain rule file.
 */
public final class RuleGroups {
    /** Prometheus' duration syntax (model.ParseDuration): units from largest to smallest, or 0. */
    private static final Pattern DURATION =
            Pattern.compile("0|(?=\\d)(\\d+y)?(\\d+w)?(\\d+d)?(\\d+h)?(\\d+m)?(\\d+s)?(\\d+ms)?");

    private static final Pattern METRIC_NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
    private static final Pattern LABEL_NAME = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");
    static final Set<String> SEVERITIES = Set.of("critical", "warning", "info");

    /** A problem at a path under the groups ({@code groups[name].rules[Alert].for}). */
    public record Problem(String path, String message) {
        @Override
        public String toString() {
            return path + ": " + message;
        }
    }

    private final List<Problem> problems = new ArrayList<>();

    private RuleGroups() {}

    /** Every problem of these groups, with paths that start with {@code at} (e.g. {@code spec.groups}). */
    public static List<Problem> check(List<RuleGroup> groups, String at) {
        RuleGroups check = new RuleGroups();
        check.groups(groups, at);
        return check.problems;
    }

    private void groups(List<RuleGroup> groups, String at) {
        if (groups == null || groups.isEmpty()) {
            fail(at, "at least one group is required");
            return;
        }
        Set<String> names = new HashSet<>();
        for (int i = 0; i < groups.size(); i++) {
            RuleGroup group = groups.get(i);
            String here = at + "[" + (group.name() == null ? String.valueOf(i) : group.name()) + "]";
            require(group.name() != null && !group.name().isBlank(), here + ".name", "required");
            require(group.name() == null || names.add(group.name()), here + ".name", "given to two groups");
            duration(group.interval(), here + ".interval");
            duration(group.queryOffset(), here + ".query_offset");
            labels(group.labels(), here + ".labels");
            if (group.rules() == null || group.rules().isEmpty()) {
                fail(here + ".rules", "at least one rule is required");
                continue;
            }
            for (int r = 0; r < group.rules().size(); r++) {
                rule(group.rules().get(r), here + ".rules", r);
            }
        }
    }

    private void rule(Rule rule, String at, int index) {
        boolean alert = rule.alert() != null;
        boolean record = rule.record() != null;
        String here = at + "[" + (alert ? rule.alert() : record ? rule.record() : String.valueOf(index)) + "]";
        if (alert == record) {
            fail(here, "needs exactly one of alert and record");
            return;
        }
        if (rule.expr() == null || rule.expr().isBlank()) {
            fail(here + ".expr", "required");
        } else {
            require(balanced(rule.expr()), here + ".expr", "unbalanced brackets or quotes: " + rule.expr());
        }
        duration(rule.pendingFor(), here + ".for");
        duration(rule.keepFiringFor(), here + ".keep_firing_for");
        labels(rule.labels(), here + ".labels");
        if (record) {
            require(METRIC_NAME.matcher(rule.record()).matches(), here + ".record", "not a metric name");
            require(
                    rule.pendingFor() == null && rule.annotations() == null,
                    here,
                    "a recording rule has no for or annotations");
            return;
        }
        require(LABEL_NAME.matcher(rule.alert()).matches(), here + ".alert", "not a valid alert name");
        Map<String, String> labels = rule.labels() == null ? Map.of() : rule.labels();
        require(
                labels.get("severity") != null && SEVERITIES.contains(labels.get("severity")),
                here + ".labels.severity",
                "required, one of " + new TreeSet<>(SEVERITIES) + " (alert routing reads it)");
        Map<String, String> annotations = rule.annotations() == null ? Map.of() : rule.annotations();
        for (String annotation : List.of("summary", "description")) {
            String text = annotations.get(annotation);
            require(text != null && !text.isBlank(), here + ".annotations." + annotation, "required");
        }
    }

    static boolean isDuration(String value) {
        return DURATION.matcher(value).matches();
    }

    private void duration(String value, String at) {
        if (value != null) {
            require(isDuration(value), at, "not a Prometheus duration (e.g. 5m, 1h30m): " + value);
        }
    }

    private void labels(Map<String, String> labels, String at) {
        if (labels != null) {
            labels.keySet()
                    .forEach(name -> require(LABEL_NAME.matcher(name).matches(), at + "." + name, "not a label name"));
        }
    }

    /** Brackets nest and close, outside string literals; every literal closes. */
    public static boolean balanced(String expr) {
        StringBuilder open = new StringBuilder();
        char quote = 0;
        for (int i = 0; i < expr.length(); i++) {
            char c = expr.charAt(i);
            if (quote != 0) {
                if (c == '\\') {
                    i++;
                } else if (c == quote) {
                    quote = 0;
                }
            } else if (c == '"' || c == '\'' || c == '`') {
                quote = c;
            } else if (c == '(' || c == '[' || c == '{') {
                open.append(c);
            } else if (c == ')' || c == ']' || c == '}') {
                char expected = c == ')' ? '(' : c == ']' ? '[' : '{';
                if (open.isEmpty() || open.charAt(open.length() - 1) != expected) {
                    return false;
                }
                open.setLength(open.length() - 1);
            }
        }
        return quote == 0 && open.isEmpty();
    }

    private void require(boolean condition, String path, String message) {
        if (!condition) {
            fail(path, message);
        }
    }

    private void fail(String path, String message) {
        problems.add(new Problem(path, message));
    }
}
