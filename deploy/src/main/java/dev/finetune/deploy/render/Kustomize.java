package dev.finetune.deploy.render;

import dev.finetune.deploy.ManifestException;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The real Kustomize: {@code kubectl kustomize}, or {@code kustomize build} where there is no kubectl
 * (the same choice as deploy/render.sh).
 */
public final class Kustomize {
    private static final Pattern KUBECTL_VERSION = Pattern.compile("Kustomize Version: (\\S+)");
    private static final Pattern KUSTOMIZE_VERSION = Pattern.compile("(v[0-9][0-9.]*)");

    private final List<String> command;
    private final String version;

    private Kustomize(List<String> command, String version) {
        this.command = command;
        this.version = version;
    }

    /** kubectl, else kustomize, from the PATH; empty when neither is there. */
    public static Optional<Kustomize> onPath() {
        Path kubectl = onPath("kubectl");
        if (kubectl != null) {
            return Optional.of(new Kustomize(
                    List.of(kubectl.toString(), "kustomize"),
                    version(KUBECTL_VERSION, kubectl.toString(), "version", "--client")));
        }
        Path kustomize = onPath("kustomize");
        if (kustomize != null) {
            return Optional.of(new Kustomize(
                    List.of(kustomize.toString(), "build"),
                    version(KUSTOMIZE_VERSION, kustomize.toString(), "version")));
        }
        return Optional.empty();
    }

    /** Kustomize's version, as in {@code v5.5.0}, or "unknown". */
    public String version() {
        return version;
    }

    /** The command for messages: {@code kubectl kustomize} or {@code kustomize build}. */
    public String command() {
        return Path.of(command.get(0)).getFileName() + " " + command.get(1);
    }

    /** Exactly what the tool prints for the kustomization in the directory; its error message when it fails. */
    public String build(Path kustomizationDir) {
        List<String> line = new ArrayList<>(command);
        line.add(kustomizationDir.toString());
        Output output = run(line);
        if (output.exitCode() != 0) {
            throw new ManifestException(command() + " " + kustomizationDir + " failed: "
                    + output.stderr().strip());
        }
        return output.stdout();
    }

    private static String version(Pattern pattern, String... line) {
        try {
            Output output = run(List.of(line));
            Matcher m = pattern.matcher(output.stdout());
            return output.exitCode() == 0 && m.find() ? m.group(1) : "unknown";
        } catch (ManifestException e) {
            return "unknown";
        }
    }

    private record Output(int exitCode, String stdout, String stderr) {}

    private static Output run(List<String> line) {
        try {
            Process process = new ProcessBuilder(line).start();
            process.getOutputStream().close();
            CompletableFuture<String> stderr = CompletableFuture.supplyAsync(() -> read(process.getErrorStream()));
            String stdout = read(process.getInputStream());
            if (!process.waitFor(120, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new ManifestException(String.join(" ", line) + ": no answer in 120 s");
            }
            return new Output(process.exitValue(), stdout, stderr.join());
        } catch (IOException e) {
            throw new ManifestException(String.join(" ", line) + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ManifestException(String.join(" ", line) + ": interrupted", e);
        }
    }

    private static String read(InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Path onPath(String name) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (dir.isEmpty()) {
                continue;
            }
            for (String file : List.of(name, name + ".exe")) {
                Path candidate = Path.of(dir, file);
                if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                    return candidate;
                }
            }
        }
        return null;
    }
}
