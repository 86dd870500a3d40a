package dev.finetune.registry.store;

/** Files of registrations and merges as the registry stores them. */
public final class LocalFiles {
    private LocalFiles() {}

    /** The content type a registry file is stored with. */
    public static String contentType(String name) {
        if (name.endsWith(".json")) {
            return "application/json";
        }
        if (name.endsWith(".md")) {
            return "text/markdown; charset=utf-8";
        }
        return "application/octet-stream";
    }
}
