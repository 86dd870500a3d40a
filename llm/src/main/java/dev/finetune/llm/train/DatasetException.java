package dev.finetune.llm.train;

import dev.finetune.errors.BadInput;
import java.io.IOException;
import java.nio.file.Path;

/** A training data file that cannot be used; the message names the file, the line and the field. */
public final class DatasetException extends IOException implements BadInput {
    private final Path file;
    private final int line;

    public DatasetException(Path file, int line, String message) {
        super(file + ":" + line + ": " + message);
        this.file = file;
        this.line = line;
    }

    public Path file() {
        return file;
    }

    /** 1-based line number. */
    public int line() {
        return line;
    }
}
