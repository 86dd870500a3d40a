package dev.finetune.llm.train;

import dev.finetune.errors.BadInput;
import java.io.IOException;

/** A job config that cannot be used; the message names the file, the key and the value. */
public final class TrainConfigException extends IOException implements BadInput {
    public TrainConfigException(String message) {
        super(message);
    }

    public TrainConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
