package dev.finetune.registry.registration;

import dev.finetune.events.EvaluationCompleted;
import dev.finetune.events.FineTuneMethod;
import dev.finetune.registry.catalog.FileDigest;
import dev.finetune.registry.catalog.Lineage;
import dev.finetune.registry.catalog.VersionManifest;
import dev.finetune.registry.catalog.VersionMetrics;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;

/**
 * The version's {@code README.md}: a HuggingFace model card (YAML front matter that the Hub and
 * PEFT tooling read, then prose and tables) with base model, dataset and version, method,
 * hyperparameters, metrics against the base model, lineage and the files with their SHA-256.
 */
public final class ModelCard {
    private ModelCard() {}

    /**
     * @param files the version's stored artifacts (the card itself and metrics/lineage excluded)
     */
    public static String render(
            String model,
            long version,
            String kind,
            Lineage lineage,
            VersionMetrics metrics,
            Map<String, FileDigest> files) {
        boolean adapter = VersionManifest.ADAPTER.equals(kind);
        String method = lineage.method() == null ? "unknown" : lineage.method().code();
        String objective =
                lineage.objective() == null ? "unknown" : lineage.objective().code();
        StringBuilder md = new StringBuilder();
        md.append("---\n");
        md.append("base_model: ").append(lineage.baseModel().name()).append('\n');
        if (adapter) {
            md.append("library_name: peft\n");
        }
        md.append("datasets:\n- ").append(lineage.dataset().name()).append('\n');
        md.append("tags:\n- ").append(method).append("\n- ").append(objective).append('\n');
        md.append("---\n\n");
        md.append("# ").append(model).append(" v").append(version).append("\n\n");
        md.append(adapter ? "A PEFT LoRA adapter for `" : "A full fine-tune of `")
                .append(lineage.baseModel().name())
                .append("`, trained with ")
                .append(methodName(lineage.method()))
                .append(" (")
                .append(objective.toUpperCase(Locale.ROOT))
                .append(") on dataset `")
                .append(lineage.dataset().name())
                .append("` version `")
                .append(lineage.dataset().version())
                .append("` by job `")
                .append(lineage.jobId())
                .append("`. Registered ")
                .append(DateTimeFormatter.ISO_INSTANT.format(lineage.registeredAt()))
                .append(".\n\n");
        if (adapter) {
            md.append("Load it with PEFT (`PeftModel.from_pretrained(base, \"<this directory>\")`) or serve it")
                    .append(" with vLLM (`--enable-lora --lora-modules ")
                    .append(model)
                    .append("=<this directory>`).\n\n");
        }
        md.append("## Hyperparameters\n\n| name | value |\n|---|---|\n");
        lineage.hyperparameters()
                .forEach((name, value) ->
                        md.append("| ").append(name).append(" | ").append(value).append(" |\n"));
        md.append("\n## Evaluation\n\nStatus: **")
                .append(metrics.status().code())
                .append("** (evaluation `")
                .append(metrics.evaluationId())
                .append("`, step ")
                .append(metrics.step())
                .append(").\n\n| metric | this version | base model |\n|---|---|---|\n");
        TreeSet<String> names = new TreeSet<>(metrics.metrics().keySet());
        names.addAll(metrics.baseMetrics().keySet());
        for (String name : names) {
            md.append("| ")
                    .append(name)
                    .append(" | ")
                    .append(number(metrics.metrics().get(name)))
                    .append(" | ")
                    .append(number(metrics.baseMetrics().get(name)))
                    .append(" |\n");
        }
        if (!metrics.gates().isEmpty()) {
            md.append("\nGates:\n\n");
            for (EvaluationCompleted.GateOutcome gate : metrics.gates()) {
                md.append("- ")
                        .append(gate.passed() ? "passed" : "FAILED")
                        .append(": `")
                        .append(gate.gate())
                        .append("` (")
                        .append(gate.detail())
                        .append(")\n");
            }
        }
        md.append("\n## Lineage\n\n| | |\n|---|---|\n");
        row(md, "dataset", lineage.dataset().id());
        row(md, "dataset sha256", lineage.dataset().sha256());
        row(md, "job", lineage.jobId());
        if (lineage.parent() != null) {
            row(
                    md,
                    "continued from",
                    lineage.parent().model() + " version " + lineage.parent().version());
        }
        if (lineage.rewardModel() != null) {
            row(
                    md,
                    "reward model",
                    lineage.rewardModel().model() + " version "
                            + lineage.rewardModel().version());
        }
        row(md, "checkpoint", lineage.checkpoint().prefix());
        row(md, "base model", lineage.baseModel().prefix());
        row(md, "base model sha256", lineage.baseModel().sha256());
        row(md, "evaluation", lineage.evaluation().id());
        row(md, "trace id", lineage.traceId());
        md.append("\n## Files\n\n| file | bytes | sha256 |\n|---|---|---|\n");
        files.forEach((name, digest) -> md.append("| ")
                .append(name)
                .append(" | ")
                .append(digest.size())
                .append(" | `")
                .append(digest.sha256())
                .append("` |\n"));
        if (files.containsKey(CheckpointArtifacts.VALUE_HEAD_FILE)) {
            md.append("\n`")
                    .append(CheckpointArtifacts.VALUE_HEAD_FILE)
                    .append("` is PPO's value head: `v_head.summary.weight` [1, hidden_size] and")
                    .append(" `v_head.summary.bias` [1], the tensors TRL's `AutoModelForCausalLMWithValueHead`")
                    .append(" keeps under those names (load them into its `v_head` to continue PPO).\n");
        }
        md.append("\n`metrics.json` and `lineage.json` beside this card hold the same facts as JSON.\n");
        return md.toString();
    }

    private static String methodName(FineTuneMethod method) {
        if (method == null) {
            return "an unknown method";
        }
        return switch (method) {
            case LORA -> "LoRA";
            case QLORA -> "QLoRA (4-bit NF4 base)";
            case FULL -> "full fine-tuning";
        };
    }

    private static void row(StringBuilder md, String name, String value) {
        md.append("| ")
                .append(name)
                .append(" | ")
                .append(value == null ? "unknown" : "`" + value + "`")
                .append(" |\n");
    }

    private static String number(Double value) {
        return value == null ? "" : String.format(Locale.ROOT, "%.4f", value);
    }
}
