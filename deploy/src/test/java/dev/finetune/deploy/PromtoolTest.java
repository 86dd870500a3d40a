package dev.finetune.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.abort;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * What Prometheus' own tool says of the files Compose's Prometheus loads: {@code promtool} accepts
 * {@code prometheus.yml} and {@code alerts.yml}, and the alerts' unit tests ({@code alerts.test.yml})
 * pass: each alert fires on its synthetic series and stays quiet before and after. promtool comes with
 * Debian's {@code prometheus} package, which {@code .ci/run} installs when it is missing; without it
 * these tests are skipped, except on CI (CI=true), where a missing promtool fails them.
 */
class PromtoolTest {
    private static final Path PROMETHEUS = Repo.DEPLOY.resolve("observability/prometheus");

    @Test
    void prometheusAcceptsItsConfigAndTheRuleFileItLoads() {
        assertThat(promtool("check", "config", "prometheus.yml")).contains("SUCCESS");
    }

    @Test
    void prometheusAcceptsTheAlertRules() {
        assertThat(promtool("check", "rules", "alerts.yml")).contains("SUCCESS");
    }

    @Test
    void eachAlertFiresOnItsSyntheticSeriesAndStaysQuietBeforeAndAfter() {
        assertThat(promtool("test", "rules", "alerts.test.yml")).contains("SUCCESS");
    }

    /** promtool's output; fails the test, with that output, if promtool does. */
    private static String promtool(String... arguments) {
        List<String> command = new ArrayList<>();
        command.add(onPath().toString());
        command.addAll(List.of(arguments));
        try {
            Process process = new ProcessBuilder(command)
                    .directory(PROMETHEUS.toFile())
                    .redirectErrorStream(true)
                    .start();
            process.getOutputStream().close();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                fail(String.join(" ", command) + " did not end within 60 s:\n" + output);
            }
            assertThat(process.exitValue())
                    .as("%s exit code; it said:%n%s", String.join(" ", command), output)
                    .isZero();
            return output;
        } catch (IOException e) {
            return fail("could not run " + command + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return fail("interrupted while running " + command, e);
        }
    }

    /** promtool from the PATH: skipped where it is missing, failed on CI (CI=true), which installs it. */
    private static Path onPath() {
        Optional<Path> found = Stream.of(
                        System.getenv().getOrDefault("PATH", "").split(File.pathSeparator))
                .filter(dir -> !dir.isEmpty())
                .map(dir -> Path.of(dir, "promtool"))
                .filter(Files::isExecutable)
                .findFirst();
        if (found.isEmpty()) {
            String missing = "promtool is not on the PATH (Debian: apt-get install prometheus)";
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                fail(missing + ", and CI=true: .ci/run installs it");
            }
            abort(missing + ": skipped");
        }
        return found.get();
    }
}
