package dev.finetune.deploy;

import java.util.regex.Pattern;

/** Names of settings that hold credentials, wherever they appear (env, ConfigMap keys, compose). */
public final class CredentialNames {
    /** A part (between _ . -) reading PASSWORD, SECRET, TOKEN, API_KEYS, ACCESS_KEY, CREDENTIALS or JAAS. */
    private static final Pattern CREDENTIAL = Pattern.compile(
            "(?i)(.*[_.-])?(password|passwd|secret|tokens?|api[_.-]?keys?|access[_.-]?key|credentials?|jaas)([_.-].*)?");

    private CredentialNames() {}

    public static boolean isCredential(String name) {
        return CREDENTIAL.matcher(name).matches();
    }
}
