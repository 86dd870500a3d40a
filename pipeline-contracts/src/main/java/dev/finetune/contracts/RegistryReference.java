package dev.finetune.contracts;

import dev.finetune.naming.Names;

/**
 * A registered version named in a job setting, {@code registry:<model>@<version or alias>}: e.g.
 * {@code registry:qwen3-tiny-chats@3} or {@code registry:qwen3-tiny-chats@production}. An alias can
 * move after a job is accepted, so the training-service resolves it once and keeps the {@link
 * #pinned} form ({@code @3}) in the job.
 *
 * @param model the registered model name
 * @param versionOrAlias a version number (1, 2, ...) or an alias name
 */
public record RegistryReference(String model, String versionOrAlias) {
    public static final String SCHEME = "registry:";
    /** The syntax, for messages. */
    public static final String SYNTAX = SCHEME + "<model>@<version or alias>";

    public RegistryReference {
        if (!Names.isName(model) || !Names.isName(versionOrAlias)) {
            throw new IllegalArgumentException("must be " + SYNTAX + " with names of a-z, 0-9, '.', '_' or '-',"
                    + " got \"" + SCHEME + model + "@" + versionOrAlias + "\"");
        }
    }

    /** Whether {@code value} is meant as a registry reference (it starts with {@value #SCHEME}). */
    public static boolean isReference(String value) {
        return value != null && value.startsWith(SCHEME);
    }

    /**
     * Reads {@code registry:<model>@<version or alias>}.
     *
     * @throws IllegalArgumentException "must be registry:&lt;model&gt;@&lt;version or alias&gt;, got ..."
     */
    public static RegistryReference parse(String value) {
        if (!isReference(value)) {
            throw new IllegalArgumentException("must be " + SYNTAX + ", got \"" + value + "\"");
        }
        String rest = value.substring(SCHEME.length());
        int at = rest.indexOf('@');
        if (at <= 0 || at == rest.length() - 1 || rest.indexOf('@', at + 1) >= 0) {
            throw new IllegalArgumentException("must be " + SYNTAX + ", got \"" + value + "\"");
        }
        return new RegistryReference(rest.substring(0, at), rest.substring(at + 1));
    }

    /** Whether {@code value} is a well-formed reference. */
    public static boolean isValid(String value) {
        try {
            parse(value);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** Whether this names a version number rather than an alias (aliases are never numbers). */
    public boolean isPinned() {
        return versionOrAlias.matches("[1-9][0-9]{0,17}");
    }

    /** The version number; only for a {@link #isPinned pinned} reference. */
    public long version() {
        if (!isPinned()) {
            throw new IllegalStateException(this + " names an alias, not a version");
        }
        return Long.parseLong(versionOrAlias);
    }

    /** This model at {@code version}. */
    public RegistryReference pinned(long version) {
        return new RegistryReference(model, Long.toString(version));
    }

    @Override
    public String toString() {
        return SCHEME + model + "@" + versionOrAlias;
    }
}
