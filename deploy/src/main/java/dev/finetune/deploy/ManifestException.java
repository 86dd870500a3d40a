package dev.finetune.deploy;

/** A manifest, kustomization or compose file that cannot be read or rendered; the message names the file. */
public class ManifestException extends RuntimeException {
    public ManifestException(String message) {
        super(message);
    }

    public ManifestException(String message, Throwable cause) {
        super(message, cause);
    }
}
