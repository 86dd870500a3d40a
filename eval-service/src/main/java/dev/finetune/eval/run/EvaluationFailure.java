package dev.finetune.eval.run;

import dev.finetune.errors.InvalidInputException;

/**
 * An evaluation that cannot succeed however often it is retried: the checkpoint, base model or
 * dataset is missing or unreadable. Bad input from upstream, so it is permanent wherever it stands
 * in a cause chain (even around an I/O cause); it ends in an evaluation event with status error and
 * this message, never in a retry loop.
 */
public class EvaluationFailure extends InvalidInputException {
    public EvaluationFailure(String message) {
        super(message);
    }

    public EvaluationFailure(String message, Throwable cause) {
        super(null, message, cause);
    }
}
