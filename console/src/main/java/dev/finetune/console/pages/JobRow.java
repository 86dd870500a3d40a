package dev.finetune.console.pages;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Set;

/**
 * A job as the jobs list shows it, from the training-service's job record.
 *
 * @param eta the estimated time left while it runs (its pace so far, carried over the steps left), or ""
 */
public record JobRow(String id, String state, String method, String objective, long step, long totalSteps, String eta) {
    private static final Set<String> TERMINAL = Set.of("succeeded", "failed", "cancelled");

    static JobRow of(Map<?, ?> job, Instant now) {
        long step = number(job.get("step"));
        long total = number(job.get("totalSteps"));
        String state = String.valueOf(job.get("state"));
        return new JobRow(
                String.valueOf(job.get("id")),
                state,
                String.valueOf(job.get("method")),
                String.valueOf(job.get("objective")),
                step,
                total,
                "running".equals(state) ? eta(job.get("startedAt"), step, total, now) : "");
    }

    public static boolean isTerminal(String state) {
        return TERMINAL.contains(state);
    }

    public int percent() {
        return totalSteps == 0 ? 0 : (int) (100 * step / totalSteps);
    }

    private static String eta(Object startedAt, long step, long total, Instant now) {
        if (startedAt == null || step == 0 || total <= step) {
            return "";
        }
        Duration elapsed = Duration.between(Instant.parse(startedAt.toString()), now);
        Duration left = elapsed.multipliedBy(total - step).dividedBy(step);
        return left.toMinutes() > 0
                ? left.toMinutes() + " min " + left.toSecondsPart() + " s"
                : left.toSeconds() + " s";
    }

    private static long number(Object value) {
        return value instanceof Number n ? n.longValue() : 0;
    }
}
