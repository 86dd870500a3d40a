package dev.finetune.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.abort;

import dev.finetune.deploy.render.Kustomize;
import dev.finetune.deploy.render.Snapshots;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * deploy/rendered/ holds what the tool renders from the manifests now. Where kubectl (or kustomize) is
 * installed its output is compared with each file; everywhere, the digest of the inputs each file
 * records is recomputed, so a manifest edited without running deploy/render.sh fails on any machine.
 */
class SnapshotTest {
    @TempDir
    Path tempDir;

    static Stream<String> renderings() {
        return Repo.SNAPSHOTS.kustomizations().keySet().stream();
    }

    @Test
    void everyKustomizationHasItsRenderingAndThereIsNoOther() throws IOException {
        List<String> files;
        try (Stream<Path> list = Files.list(Repo.DEPLOY.resolve("rendered"))) {
            files = list.map(p -> p.getFileName().toString()).sorted().toList();
        }

        assertThat(Repo.SNAPSHOTS.kustomizations()).containsKeys("base", "observability", "dev", "gpu");
        assertThat(files)
                .containsExactlyInAnyOrderElementsOf(
                        renderings().map(name -> name + ".yaml").toList());
    }

    @ParameterizedTest
    @MethodSource("renderings")
    void renderingRecordsTheCurrentInputs(String name) {
        Repo.SNAPSHOTS.staleInputs(name).ifPresent(stale -> fail(stale));
    }

    @ParameterizedTest
    @MethodSource("renderings")
    void renderingIsWhatTheToolRendersNow(String name) {
        Kustomize tool = Repo.tool();

        Repo.SNAPSHOTS.staleOutput(name, tool).ifPresent(stale -> fail(stale));
    }

    @Test
    void editedManifestMakesTheRenderingsStaleWithoutTheTool() throws IOException {
        Snapshots copy = copyOfDeploy();
        Path manifest = tempDir.resolve("deploy/base/dataset-service.yaml");
        replace(manifest, "cpu: 500m", "cpu: 750m");

        assertThat(copy.staleInputs("dev")).hasValueSatisfying(stale -> assertThat(stale)
                .startsWith("deploy/rendered/dev.yaml is stale: files under deploy/base, "
                        + "deploy/components, deploy/observability, deploy/overlays changed since it was "
                        + "rendered")
                .endsWith("Regenerate it with deploy/render.sh"));
        assertThat(copy.staleInputs("observability")).isPresent();
    }

    @Test
    void editedManifestMakesTheRenderingDifferFromTheTool() throws IOException {
        Kustomize tool = Repo.tool();
        Snapshots copy = copyOfDeploy();
        Path patch = tempDir.resolve("deploy/overlays/dev/small-resources.yaml");
        replace(patch, "cpu: 100m", "cpu: 150m");

        assertThat(copy.staleOutput("dev", tool)).hasValueSatisfying(stale -> assertThat(stale)
                .startsWith("deploy/rendered/dev.yaml is stale: `" + tool.command()
                        + " deploy/overlays/dev` (kustomize " + tool.version() + ") renders something else")
                .contains("cpu: 150m")
                .endsWith("Regenerate it with deploy/render.sh"));
        assertThat(copy.staleOutput("gpu", tool)).isEmpty();
    }

    @Test
    void renderScriptHashesTheInputsAsTheBuildDoes() throws Exception {
        assertThat(bash(Repo.DEPLOY.resolve("render.sh").toString(), "--digest"))
                .isEqualTo(Repo.SNAPSHOTS.inputsDigest() + "\n");
    }

    @Test
    void renderScriptWritesExactlyTheCommittedRenderings() throws Exception {
        Repo.tool();
        Path out = tempDir.resolve("rendered");

        bash(Repo.DEPLOY.resolve("render.sh").toString(), out.toString());

        for (String name : renderings().toList()) {
            assertThat(out.resolve(name + ".yaml"))
                    .as("deploy/render.sh wrote " + name + ".yaml")
                    .hasSameBinaryContentAs(Repo.SNAPSHOTS.file(name));
        }
    }

    /** deploy/ with the inputs and renderings of the repository, in the temporary directory. */
    private Snapshots copyOfDeploy() throws IOException {
        Path deploy = tempDir.resolve("deploy");
        List<String> dirs = new ArrayList<>(Snapshots.INPUTS);
        dirs.add("rendered");
        for (String dir : dirs) {
            try (Stream<Path> files = Files.walk(Repo.DEPLOY.resolve(dir))) {
                for (Path file : files.filter(Files::isRegularFile).toList()) {
                    Path copy = deploy.resolve(Repo.DEPLOY.relativize(file));
                    Files.createDirectories(copy.getParent());
                    Files.copy(file, copy);
                }
            }
        }
        Snapshots copy = new Snapshots(deploy);
        assertThat(copy.inputsDigest()).isEqualTo(Repo.SNAPSHOTS.inputsDigest());
        return copy;
    }

    private static void replace(Path file, String text, String replacement) throws IOException {
        String content = Files.readString(file);
        assertThat(content).contains(text);
        Files.writeString(file, content.replaceFirst(Pattern.quote(text), replacement));
    }

    private static String bash(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("bash"));
        command.addAll(List.of(args));
        Process process;
        try {
            process = new ProcessBuilder(command).redirectErrorStream(true).start();
        } catch (IOException e) {
            return abort("no bash to run deploy/render.sh with: " + e.getMessage());
        }
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as(output).isZero();
        return output;
    }
}
