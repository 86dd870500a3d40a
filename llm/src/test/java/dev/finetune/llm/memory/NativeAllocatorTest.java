package dev.finetune.llm.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The allocator the service images preload: the engine runs on it with the options as written (jemalloc
 * reports a misspelt option on standard error and ignores it), and a process can tell which it runs on.
 */
class NativeAllocatorTest {

    @Test
    void engineRunsOnJemallocWithItsOptionsAccepted() throws Exception {
        Path library = installedOrSkipped();

        String output = probe(NativeAllocator.environment(library.toString()));

        assertThat(output).doesNotContain("<jemalloc>").endsWith("active=1 checksum=12");
        assertThat(output)
                .contains("info: native allocator: jemalloc (MALLOC_CONF=oversize_threshold:0,background_thread:true)")
                .doesNotContain("warning:");
    }

    @Test
    void withoutItTheProcessSaysItRunsOnGlibc() throws Exception {
        String output = probe(Map.of());

        assertThat(output).endsWith("active=0 checksum=12");
        assertThat(output)
                .contains("warning: native allocator: glibc's, which keeps freed blocks")
                .contains("preload libjemalloc.so.2 with MALLOC_CONF=oversize_threshold:0,background_thread:true")
                .doesNotContain("info:");
    }

    @Test
    void environmentPreloadsTheLibraryWithTheMeasuredOptions() {
        assertThat(NativeAllocator.environment("/usr/lib/libjemalloc.so.2"))
                .containsEntry("LD_PRELOAD", "/usr/lib/libjemalloc.so.2")
                .containsEntry("MALLOC_CONF", "oversize_threshold:0,background_thread:true");
    }

    private static Path installedOrSkipped() {
        Optional<Path> library = NativeAllocator.installed();
        if (library.isEmpty() && "true".equalsIgnoreCase(System.getenv("CI"))) {
            throw new IllegalStateException(
                    NativeAllocator.LIBRARY + " is missing: install Debian's libjemalloc2 (.ci/run does)");
        }
        assumeTrue(library.isPresent(), NativeAllocator.LIBRARY + " is not installed: skipped");
        return library.get();
    }

    /** Runs {@link NativeAllocatorProbe} in a JVM of its own; its whole output, trimmed. */
    private static String probe(Map<String, String> environment) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx128m",
                "-Dai.djl.pytorch.num_threads=1",
                "-Dai.djl.offline=true",
                "-cp",
                System.getProperty("java.class.path"),
                NativeAllocatorProbe.class.getName()));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().remove("LD_PRELOAD");
        builder.environment().remove("MALLOC_CONF");
        builder.environment().putAll(environment);
        Process process = builder.start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(2, TimeUnit.MINUTES)).isTrue();
        assertThat(process.exitValue()).as(output).isZero();
        return output.strip();
    }
}
