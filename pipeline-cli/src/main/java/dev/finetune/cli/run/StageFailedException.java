package dev.finetune.cli.run;

/** A pipeline run stopped at a stage, with the reason a person can act on. */
public final class StageFailedException extends Exception {
    private final Stage stage;

    public StageFailedException(Stage stage, String reason, Throwable cause) {
        super(
                "stage '" + stage.name().toLowerCase(java.util.Locale.ROOT) + "' (" + stage.description() + ") failed: "
                        + reason,
                cause);
        this.stage = stage;
    }

    public Stage stage() {
        return stage;
    }
}
