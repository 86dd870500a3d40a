package dev.finetune.registry.promotion;

import java.util.List;
import java.util.stream.Collectors;

/**
 * Whether a version may become what an alias points at, with every rule checked and its numbers.
 *
 * @param model the registered model
 * @param version the candidate version
 * @param alias the alias
 * @param currentVersion what the alias points at now, or null
 * @param allowed every check passed
 * @param checks each rule, whether it held and the numbers it was decided on
 */
public record GateDecision(
        String model, long version, String alias, Long currentVersion, boolean allowed, List<Check> checks) {

    /**
     * @param rule the rule, e.g. {@code beats production on eval_loss (lower is better)}
     * @param passed whether it held
     * @param detail the numbers, e.g. {@code eval_loss 1.9200 vs 1.8500 of version 2: ...}
     */
    public record Check(String rule, boolean passed, String detail) {}

    /** One line naming every failed rule with its numbers. */
    public String summary() {
        String failed = checks.stream()
                .filter(c -> !c.passed())
                .map(c -> c.rule() + ": " + c.detail())
                .collect(Collectors.joining("; "));
        return allowed
                ? "version " + version + " of " + model + " may become " + alias
                : "promotion of " + model + " version " + version + " to " + alias + " refused: " + failed;
    }
}
