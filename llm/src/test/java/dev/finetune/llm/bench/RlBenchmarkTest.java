package dev.finetune.llm.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code llm bench-rl} end to end with one measured rollout per objective of completions of up to 8 tokens: GRPO and PPO train through
 * the recipes on the bench model's body, and their rollout and optimizer-step figures land in the
 * Markdown section, the file's other text kept.
 */
class RlBenchmarkTest {
    /** A table row: objective, rollout seconds, tokens per rollout, tokens/s, step seconds, steps per rollout. */
    private static final Pattern ROW = Pattern.compile(
            "\\| (grpo|ppo) \\| ([0-9.]+) s \\([^)]*\\) \\| ([0-9,]+) \\| ([0-9,]+) \\| ([0-9.]+) s \\([^)]*\\) \\| (\\d+) \\|");

    @TempDir
    Path dir;

    @Test
    void grpoAndPpoRolloutsAndOptimizerStepsAreMeasuredAndWritten() throws Exception {
        Path markdown = dir.resolve("benchmarks.md");
        Files.writeString(markdown, "# Benchmarks\n\nkept text\n");
        StringWriter output = new StringWriter();
        CommandLine cli = new CommandLine(new RlBenchmark());
        cli.setOut(new PrintWriter(output, true));

        int exit = cli.execute("--rollouts", "1", "--completion-tokens", "8", "--out", markdown.toString());

        assertThat(exit).as(output.toString()).isZero();
        String written = Files.readString(markdown);
        assertThat(written).contains("kept text", "<!-- rl-bench:start -->", "<!-- rl-bench:end -->");
        Matcher rows = ROW.matcher(written);
        for (String objective : List.of("grpo", "ppo")) {
            assertThat(rows.find())
                    .as("a row for %s in%n%s", objective, written)
                    .isTrue();
            assertThat(rows.group(1)).isEqualTo(objective);
            double rolloutSeconds = Double.parseDouble(rows.group(2));
            double tokens = Double.parseDouble(rows.group(3).replace(",", ""));
            assertThat(rolloutSeconds).isPositive();
            assertThat(tokens).as("32 completions of 1 to 8 tokens").isBetween(32.0, 32.0 * 8);
            assertThat(Double.parseDouble(rows.group(5)))
                    .as("optimizer step seconds")
                    .isPositive();
            assertThat(Integer.parseInt(rows.group(6))).isEqualTo(objective.equals("ppo") ? RlBenchmark.PPO_EPOCHS : 1);
        }
    }
}
