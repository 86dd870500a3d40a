package dev.finetune.llm.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MarkdownSectionTest {
    private final MarkdownSection section = new MarkdownSection("inference-bench");

    @TempDir
    Path dir;

    @Test
    void missingFileIsCreatedWithItsDirectoryTitleAndSection() throws IOException {
        Path file = dir.resolve("docs/benchmarks.md");

        section.write(file, "Benchmarks", "| a | b |\n");

        assertThat(Files.readString(file))
                .isEqualTo("# Benchmarks\n\n<!-- inference-bench:start -->\n| a | b |\n<!-- inference-bench:end -->\n");
    }

    @Test
    void existingSectionIsReplacedAndEverythingAroundItKept() throws IOException {
        Path file = dir.resolve("benchmarks.md");
        String before = "# Benchmarks\n\nIntro.\n\n<!-- training-bench:start -->\ntraining numbers\n"
                + "<!-- training-bench:end -->\n\n";
        String after = "\n\nClosing words.\n";
        Files.writeString(
                file, before + "<!-- inference-bench:start -->\nold numbers\n<!-- inference-bench:end -->" + after);

        section.write(file, "Benchmarks", "new numbers");

        assertThat(Files.readString(file))
                .isEqualTo(
                        before + "<!-- inference-bench:start -->\nnew numbers\n<!-- inference-bench:end -->" + after);
    }

    @Test
    void fileWithoutTheMarkersGetsTheSectionAppended() throws IOException {
        Path file = dir.resolve("benchmarks.md");
        Files.writeString(file, "# Benchmarks\n\nOther results.");

        section.write(file, "Benchmarks", "numbers");

        assertThat(Files.readString(file))
                .isEqualTo("# Benchmarks\n\nOther results.\n\n<!-- inference-bench:start -->\nnumbers\n"
                        + "<!-- inference-bench:end -->\n");
    }

    @Test
    void unclosedSectionIsRejectedNamingTheFileAndLeftUntouched() throws IOException {
        Path file = dir.resolve("benchmarks.md");
        String broken = "# Benchmarks\n<!-- inference-bench:start -->\nhalf a section\n";
        Files.writeString(file, broken);

        assertThatThrownBy(() -> section.write(file, "Benchmarks", "numbers"))
                .isInstanceOf(IOException.class)
                .hasMessageContaining(file.toString())
                .hasMessageContaining("must appear once each");
        assertThat(Files.readString(file)).isEqualTo(broken);
    }
}
