package dev.finetune.deploy.validation;

import dev.finetune.deploy.ManifestException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The Secrets the manifests expect to exist, as documented: every
 * {@code kubectl create secret generic NAME --from-literal=KEY=...} command in a README (lines joined
 * at trailing backslashes). A reference to any other Secret, or to a key the command does not
 * create, is an error.
 */
public record ExternalSecrets(Map<String, Set<String>> keysBySecret) {
    private static final Pattern CREATE = Pattern.compile("create secret generic ([a-z0-9.-]+)(.*)");
    private static final Pattern KEY = Pattern.compile("--from-(?:literal|file)=([-._a-zA-Z0-9]+)=");

    public static ExternalSecrets documentedIn(Path readme) {
        String text;
        try {
            text = Files.readString(readme).replace("\\\n", " ");
        } catch (IOException e) {
            throw new ManifestException(readme + ": cannot read: " + e.getMessage(), e);
        }
        Map<String, Set<String>> secrets = new TreeMap<>();
        for (String line : text.split("\n")) {
            Matcher command = CREATE.matcher(line);
            if (command.find()) {
                Set<String> keys = secrets.computeIfAbsent(command.group(1), name -> new TreeSet<>());
                Matcher key = KEY.matcher(command.group(2));
                while (key.find()) {
                    keys.add(key.group(1));
                }
            }
        }
        return new ExternalSecrets(secrets);
    }

    boolean has(String secret, String key) {
        Set<String> keys = keysBySecret.get(secret);
        return keys != null && (key == null || keys.contains(key));
    }
}
