package dev.finetune.cli.run;

/** The stages of a pipeline run, in order; a failed run exits with {@link #exitCode()} and names the stage. */
public enum Stage {
    START("start the local stack and the services"),
    BASE_MODEL("seed the base model"),
    SUBMIT("publish the dataset"),
    PREPARATION("prepare the dataset"),
    TRAINING("train"),
    EVALUATION("evaluate"),
    REGISTRATION("register the adapter"),
    TRACE("collect the trace");

    private final String description;

    Stage(String description) {
        this.description = description;
    }

    public String description() {
        return description;
    }

    /** 10 for START, 11 for BASE_MODEL, ...: a script can tell the stage from the exit code alone. */
    public int exitCode() {
        return 10 + ordinal();
    }
}
