package dev.finetune.deploy.validation;

import java.util.regex.Pattern;

/** Kubernetes' name rules (apimachinery validation), for the messages the API server would give. */
final class Names {
    private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
    private static final Pattern DNS_1035_LABEL = Pattern.compile("[a-z]([-a-z0-9]*[a-z0-9])?");
    private static final Pattern DNS_SUBDOMAIN =
            Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
    private static final Pattern PORT_NAME = Pattern.compile("[a-z0-9]([a-z0-9-]*[a-z0-9])?");
    private static final Pattern LABEL_VALUE = Pattern.compile("(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?");
    private static final Pattern ENV_NAME = Pattern.compile("[-._a-zA-Z][-._a-zA-Z0-9]*");

    private Names() {}

    /** Object names (most kinds): lower-case DNS subdomain, at most 253 characters. */
    static boolean isSubdomain(String name) {
        return name != null
                && name.length() <= 253
                && DNS_SUBDOMAIN.matcher(name).matches();
    }

    /** Container names, volume names: a DNS label of at most 63 characters. */
    static boolean isLabel(String name) {
        return name != null && name.length() <= 63 && DNS_LABEL.matcher(name).matches();
    }

    /** Service names: a DNS-1035 label (starts with a letter). */
    static boolean isServiceName(String name) {
        return name != null
                && name.length() <= 63
                && DNS_1035_LABEL.matcher(name).matches();
    }

    /** Port names (IANA_SVC_NAME): at most 15 characters, at least one letter, no "--". */
    static boolean isPortName(String name) {
        return name.length() <= 15
                && PORT_NAME.matcher(name).matches()
                && name.chars().anyMatch(Character::isLetter)
                && !name.contains("--");
    }

    static boolean isLabelValue(String value) {
        return value.length() <= 63 && LABEL_VALUE.matcher(value).matches();
    }

    static boolean isEnvName(String name) {
        return name != null && ENV_NAME.matcher(name).matches();
    }
}
