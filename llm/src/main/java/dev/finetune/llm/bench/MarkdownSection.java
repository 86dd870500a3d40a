package dev.finetune.llm.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A section of a shared Markdown file that one program owns, delimited by
 * {@code <!-- NAME:start -->} and {@code <!-- NAME:end -->}, so several benchmarks can write their
 * results into one document without touching each other's text.
 */
public final class MarkdownSection {
    private final String start;
    private final String end;

    public MarkdownSection(String name) {
        this.start = "<!-- " + name + ":start -->";
        this.end = "<!-- " + name + ":end -->";
    }

    /**
     * Writes {@code body} between the markers: replacing the old section if the file has one,
     * appending a section if it has none, creating the file (with a title) and its directories if
     * it does not exist. Everything outside the markers is kept byte for byte.
     */
    public void write(Path file, String title, String body) throws IOException {
        String section = start + "\n" + body.strip() + "\n" + end;
        String document;
        if (!Files.exists(file)) {
            document = "# " + title + "\n\n" + section + "\n";
        } else {
            String old = Files.readString(file, StandardCharsets.UTF_8);
            int from = old.indexOf(start);
            int to = old.indexOf(end);
            if (from < 0 && to < 0) {
                document = old + (old.endsWith("\n") || old.isEmpty() ? "" : "\n") + "\n" + section + "\n";
            } else if (from < 0 || to < from || old.indexOf(start, from + 1) >= 0 || old.indexOf(end, to + 1) >= 0) {
                throw new IOException(file + ": the markers " + start + " and " + end
                        + " must appear once each, in that order; fix the file by hand");
            } else {
                document = old.substring(0, from) + section + old.substring(to + end.length());
            }
        }
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Files.writeString(file, document, StandardCharsets.UTF_8);
    }
}
