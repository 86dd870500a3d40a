package dev.finetune.cli.run;

/**
 * The stages of a pipeline run, in order. A failed run exits with the stage's code and names it; the
 * codes are part of the command's contract (scripts read them), so they are explicit, never derived
 * from the order.
 */
public enum Stage {
    START(10, "start the local stack and the services"),
    BASE_MODEL(11, "seed the base model"),
    SUBMIT(12, "publish the dataset"),
    PREPARATION(13, "prepare the dataset"),
    TRAINING(14, "train"),
    EVALUATION(15, "evaluate"),
    REGISTRATION(16, "register the adapter"),
    TRACE(17, "collect the trace");

    /** The exit code of a run stopped by Ctrl-C or a termination signal (128 + SIGINT). */
    public static final int INTERRUPTED_EXIT_CODE = 130;

    private final int exitCode;
    private final String description;

    Stage(int exitCode, String description) {
        this.exitCode = exitCode;
        this.description = description;
    }

    public String description() {
        return description;
    }

    public int exitCode() {
        return exitCode;
    }
}
