package dev.finetune.llm.tokenizer;

import dev.finetune.errors.BadInput;
import java.io.IOException;
import java.nio.file.Path;

/**
 * A tokenizer file (tokenizer.json, tokenizer_config.json, generation_config.json, a chat template
 * file) that is missing or cannot be used. The message always names the file and, where one is
 * involved, the field.
 */
public class TokenizerException extends IOException implements BadInput {
    private static final long serialVersionUID = 1L;

    private final transient Path file;
    private final String field;

    public TokenizerException(Path file, String field, String problem) {
        this(file, field, problem, null);
    }

    public TokenizerException(Path file, String field, String problem, Throwable cause) {
        super(describe(file, field, problem), cause);
        this.file = file;
        this.field = field;
    }

    /** The file that is wrong. */
    public Path file() {
        return file;
    }

    /** The field the problem is about, or null if it concerns the whole file. */
    public String field() {
        return field;
    }

    private static String describe(Path file, String field, String problem) {
        String where = field == null ? String.valueOf(file) : file + ": '" + field + "'";
        return where + ": " + problem;
    }
}
