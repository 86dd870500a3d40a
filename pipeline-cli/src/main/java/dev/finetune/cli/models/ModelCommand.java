package dev.finetune.cli.models;

import com.fasterxml.jackson.databind.JsonNode;
import dev.finetune.cli.http.ApiCommand;
import dev.finetune.cli.http.MultipartBody;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code finetune model ...}: the base models jobs may train on, kept by the registry-service. */
@Command(name = "model", mixinStandardHelpOptions = true, header = "Import and list base models.")
public final class ModelCommand extends ApiCommand {
    static final String PATH = "api/base-models";

    @Command(
            name = "import",
            mixinStandardHelpOptions = true,
            header = "Imports a HuggingFace model directory (uploaded) or s3://bucket/prefix/ (read by the"
                    + " registry) as a base model, verified first.")
    void importModel(
            @Parameters(paramLabel = "DIR|s3://BUCKET/PREFIX/") String source,
            @Option(names = "--name", required = true, paramLabel = "NAME") String name) {
        JsonNode answer = source.startsWith("s3://")
                ? services().registry().post(PATH, Map.of("name", name, "source", source))
                : services().registry().postMultipart(PATH, upload(name, Path.of(source)));
        JsonNode model = answer.path("model");
        out().printf(
                        "%s %s: %s, %s parameters, %d files, %s bytes, sha256 %s%n",
                        answer.path("alreadyImported").asBoolean() ? "already imported" : "imported",
                        model.path("name").asText(),
                        model.path("architecture").asText(),
                        model.path("parameters").asText(),
                        model.path("files").size(),
                        model.path("totalBytes").asText(),
                        model.path("sha256").asText());
    }

    @Command(name = "list", mixinStandardHelpOptions = true, header = "Lists the base models.")
    void list() {
        out().printf(
                        "%-32s %-9s %-20s %14s %14s  %s%n",
                        "NAME", "STATUS", "ARCHITECTURE", "PARAMETERS", "BYTES", "SHA256");
        for (JsonNode m : services().registry().get(PATH)) {
            out().printf(
                            "%-32s %-9s %-20s %14s %14s  %s%n",
                            m.path("name").asText(),
                            m.path("status").asText(),
                            m.path("architecture").asText("-"),
                            m.path("parameters").asText("-"),
                            m.path("totalBytes").asText(),
                            m.path("sha256").asText());
        }
    }

    /** The directory's files, one part each; sub-directories are not part of a HuggingFace model's files. */
    private static MultipartBody upload(String name, Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException(
                    dir + " is not a directory (give a model directory or s3://bucket/prefix/)");
        }
        MultipartBody body = new MultipartBody().field("name", name);
        try (Stream<Path> listing = Files.list(dir)) {
            List<Path> files = listing.filter(Files::isRegularFile).sorted().toList();
            if (files.isEmpty()) {
                throw new IllegalArgumentException(dir + " holds no files");
            }
            for (Path file : files) {
                body.file("file", file);
            }
        } catch (FileNotFoundException e) {
            throw new UncheckedIOException("cannot read " + e.getMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
        return body;
    }
}
