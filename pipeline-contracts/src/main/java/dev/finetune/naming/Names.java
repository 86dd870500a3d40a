package dev.finetune.naming;

import java.util.regex.Pattern;

/**
 * Validation of the names and ids that become parts of object keys and Kafka keys. Only validated
 * names are ever put into a key, so a value such as {@code ../../x} or {@code a/b} can never reach
 * outside its prefix.
 */
public final class Names {
    /**
     * A name: lower-case letters, digits, '.', '_' and '-', starting with a letter or digit, at most
     * 128 characters. Covers dataset names, model names, job ids, versions and aliases.
     */
    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,127}");

    /**
     * A file name inside a stored artifact (e.g. {@code model-00001-of-00002.safetensors}): like a
     * name but case is kept; one or more '/'-separated segments, none of which is {@code .} or
     * {@code ..}.
     */
    private static final Pattern FILE_SEGMENT = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9._-]{0,254}");

    /** A label that is also a field path (no spaces), e.g. {@code trigger.baseModel}, not {@code dataset name}. */
    private static final Pattern FIELD_PATH = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)*");

    private Names() {}

    /**
     * Returns {@code value} if it is a valid name, else throws an exception naming the field and the
     * value.
     *
     * @param field what the value is, for the message (e.g. {@code "dataset name"})
     */
    public static String requireName(String field, String value) {
        if (value == null || !NAME.matcher(value).matches() || value.contains("..")) {
            throw new InvalidNameException(
                    fieldPath(field),
                    field
                            + " must be 1-128 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit, got "
                            + quote(value));
        }
        return value;
    }

    /** Returns {@code path} if it is a relative file path of valid segments, else throws naming it. */
    public static String requireFilePath(String field, String path) {
        if (path == null || path.isEmpty() || path.length() > 1024) {
            throw new InvalidNameException(
                    fieldPath(field), field + " must be a relative file path of 1-1024 characters, got " + quote(path));
        }
        for (String segment : path.split("/", -1)) {
            if (!FILE_SEGMENT.matcher(segment).matches() || segment.equals("..") || segment.equals(".")) {
                throw new InvalidNameException(
                        fieldPath(field),
                        field + " must be '/'-separated segments of A-Z, a-z, 0-9, '.', '_'"
                                + " or '-' (no empty, '.' or '..' segment), got " + quote(path));
            }
        }
        return path;
    }

    /** Whether {@code value} is a valid name. */
    public static boolean isName(String value) {
        return value != null && NAME.matcher(value).matches() && !value.contains("..");
    }

    /** The label as a field path if it is one ({@code baseModel}, {@code trigger.baseModel}), else null. */
    private static String fieldPath(String label) {
        return label != null && FIELD_PATH.matcher(label).matches() ? label : null;
    }

    private static String quote(String value) {
        if (value == null) {
            return "null";
        }
        String shown = value.length() > 80 ? value.substring(0, 80) + "..." : value;
        return "'" + shown + "'";
    }
}
