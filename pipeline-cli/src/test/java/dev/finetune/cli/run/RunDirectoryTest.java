package dev.finetune.cli.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunDirectoryTest {
    @TempDir
    Path tmp;

    @Test
    void aDirectoryAnEarlierRunMadeIsEmptied() throws Exception {
        Path dir = tmp.resolve("run");
        RunDirectory.prepare(dir);
        Files.writeString(dir.resolve("old.log"), "x");

        RunDirectory.prepare(dir);

        assertThat(dir.resolve("old.log")).doesNotExist();
        assertThat(dir.resolve(RunDirectory.MARKER)).exists();
    }

    @Test
    void aNonEmptyDirectoryWithoutTheMarkerIsRefusedAndLeftAsItIs() throws Exception {
        Path precious = Files.writeString(tmp.resolve("thesis.tex"), "years of work");

        assertThatThrownBy(() -> RunDirectory.prepare(tmp))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("--work-dir: " + tmp + " is not empty and was not made by an earlier run (no .finetune-run"
                        + " in it); give a new or empty directory");
        assertThat(precious).hasContent("years of work");
    }

    @Test
    void aFileIsRefused() throws Exception {
        Path file = Files.writeString(tmp.resolve("f"), "");
        assertThatThrownBy(() -> RunDirectory.prepare(file)).hasMessageContaining("is a file, not a directory");
    }
}
