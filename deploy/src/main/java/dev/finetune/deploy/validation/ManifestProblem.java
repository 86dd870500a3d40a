package dev.finetune.deploy.validation;

/** One thing wrong with a rendered object: which object (and the files it came from), where in it, what. */
public record ManifestProblem(String object, String path, String message) {
    @Override
    public String toString() {
        return object + ": " + (path.isEmpty() ? "" : path + ": ") + message;
    }
}
