package dev.finetune.llm.checkpoint;

import dev.finetune.errors.BadInput;
import java.io.IOException;
import java.nio.file.Path;

/**
 * A checkpoint file (safetensors, shard index or config.json) that cannot be used. The message
 * always names the file and, where one is involved, the tensor or config field.
 */
public class CheckpointException extends IOException implements BadInput {
    private static final long serialVersionUID = 1L;

    private final Path file;
    private final String item;

    public CheckpointException(Path file, String item, String problem) {
        this(file, item, problem, null);
    }

    public CheckpointException(Path file, String item, String problem, Throwable cause) {
        super(describe(file, item, problem), cause);
        this.file = file;
        this.item = item;
    }

    /** The file that is wrong. */
    public Path file() {
        return file;
    }

    /** The tensor name or config field the problem is about, or null if it concerns the whole file. */
    public String item() {
        return item;
    }

    private static String describe(Path file, String item, String problem) {
        String where = item == null ? String.valueOf(file) : file + ": '" + item + "'";
        return where + ": " + problem;
    }
}
