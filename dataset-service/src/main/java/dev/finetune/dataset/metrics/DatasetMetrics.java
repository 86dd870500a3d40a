package dev.finetune.dataset.metrics;

import dev.finetune.dataset.prepare.PreparationResult;
import dev.finetune.service.metrics.Recording;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Map;

/**
 * What preparing datasets did:
 *
 * <ul>
 *   <li>{@code finetune_dataset_lines_total{outcome,reason}}: non-blank lines read, by outcome
 *       {@code accepted} (reason {@code none}), {@code rejected} (reason the rule the line broke: a
 *       field path such as {@code messages[].role}, or a whole-line rule such as {@code json}; see
 *       {@code InvalidLineException#rule}) or {@code duplicate} (reason {@code exact} or {@code
 *       near}). Counted for every dataset read to the end, whether or not the dataset as a whole is
 *       then rejected; a re-announced version is not read again and not counted again.
 *   <li>{@code finetune_dataset_preparations_total{outcome}}: versions prepared ({@code prepared})
 *       or rejected ({@code rejected}), each once.
 * </ul>
 */
@ApplicationScoped
public class DatasetMetrics {
    private final MeterRegistry registry;

    DatasetMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    /** The lines of one dataset read to the end. */
    public void linesRead(PreparationResult result) {
        Recording.safely("dataset lines", () -> {
            lines("accepted", "none", result.validExamples());
            for (Map.Entry<String, Long> rule : result.invalidLinesByRule().entrySet()) {
                lines("rejected", rule.getKey(), rule.getValue());
            }
            lines("duplicate", "exact", result.exactDuplicates());
            lines("duplicate", "near", result.nearDuplicates());
        });
    }

    /** One version's preparation ended: {@code prepared} or {@code rejected}. */
    public void prepared(boolean prepared) {
        Recording.safely("dataset preparation", () -> Counter.builder("finetune.dataset.preparations")
                .description("Dataset versions prepared or rejected")
                .tag("outcome", prepared ? "prepared" : "rejected")
                .register(registry)
                .increment());
    }

    private void lines(String outcome, String reason, long count) {
        Counter counter = Counter.builder("finetune.dataset.lines")
                .description("Non-blank dataset lines read, by outcome and the rule or kind behind it")
                .tags("outcome", outcome, "reason", reason)
                .register(registry);
        counter.increment(count);
    }
}
