package dev.finetune.eval.run;

/**
 * An evaluation that cannot succeed however often it is retried: the checkpoint, base model or
 * dataset is missing or unreadable. It ends in an evaluation event with status error and this
 * message, never in a retry loop.
 */
public class EvaluationFailure extends RuntimeException {
    public EvaluationFailure(String message) {
        super(message);
    }

    public EvaluationFailure(String message, Throwable cause) {
        super(message, cause);
    }
}
