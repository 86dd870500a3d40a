package dev.finetune.deploy.kustomize;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.finetune.deploy.ManifestException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/** {@code configMapGenerator} entries (envs and files) and kustomize's content-hash name suffix. */
final class ConfigMapGenerator {
    private static final Pattern ENV_NAME = Pattern.compile("[-._a-zA-Z][-._a-zA-Z0-9]*");

    private ConfigMapGenerator() {}

    static Resource generate(Kustomization.ConfigMapArgs args, Path dir, Sources sources) {
        String where = sources.display(dir.resolve("kustomization.yaml")) + ": configMapGenerator " + args.name();
        Map<String, String> data = new TreeMap<>();
        for (String env : args.envs()) {
            Path file = sources.inside(dir, env, where);
            readEnvFile(file, sources.display(file), data, where);
        }
        for (String source : args.files()) {
            int eq = source.indexOf('=');
            String key = eq < 0 ? Path.of(source).getFileName().toString() : source.substring(0, eq);
            Path file = sources.inside(dir, eq < 0 ? source : source.substring(eq + 1), where);
            put(data, key, read(file, sources.display(file)), where);
        }
        ObjectNode body = JsonNodeFactory.instance.objectNode();
        body.put("apiVersion", "v1").put("kind", "ConfigMap");
        body.putObject("metadata").put("name", args.name());
        ObjectNode dataNode = body.putObject("data");
        data.forEach(dataNode::put);
        return new Resource(body, sources.display(dir.resolve("kustomization.yaml")), true);
    }

    /** Kustomize's env-file rules: KEY=VALUE lines, the value verbatim; blank lines and # comments skipped. */
    private static void readEnvFile(Path file, String display, Map<String, String> data, String where) {
        String[] lines = read(file, display).replaceFirst("^\uFEFF", "").split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].replaceFirst("\r$", "").stripLeading();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int eq = line.indexOf('=');
            String key = eq < 0 ? line : line.substring(0, eq);
            if (!ENV_NAME.matcher(key).matches()) {
                throw new ManifestException(display + ":" + (i + 1) + ": '" + key + "' is not a valid variable name");
            }
            put(data, key, eq < 0 ? "" : line.substring(eq + 1), where);
        }
    }

    private static void put(Map<String, String> data, String key, String value, String where) {
        if (data.put(key, value) != null) {
            throw new ManifestException(where + ": key " + key + " is given twice");
        }
    }

    private static String read(Path file, String display) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new ManifestException(display + ": cannot read: " + e.getMessage(), e);
        }
    }

    /**
     * Kustomize's suffix: SHA-256 over Go's JSON encoding of {@code {"data":...,"kind":"ConfigMap","name":""}}
     * (keys sorted), the first ten hex digits with 0,1,3,a,e replaced so it never reads as a number. The
     * name is always empty: kustomize's hasher looks it up as one field called "metadata/name" (see
     * api/hasher/hasher.go), which never exists; only the data counts.
     */
    static String hashSuffix(ObjectNode configMap) {
        Map<String, String> data = new TreeMap<>();
        configMap
                .path("data")
                .fields()
                .forEachRemaining(f -> data.put(f.getKey(), f.getValue().asText()));
        StringBuilder json = new StringBuilder("{\"data\":{");
        String separator = "";
        for (Map.Entry<String, String> entry : data.entrySet()) {
            json.append(separator).append(goString(entry.getKey())).append(':').append(goString(entry.getValue()));
            separator = ",";
        }
        json.append("},\"kind\":\"ConfigMap\",\"name\":\"\"}");
        String hex = HexFormat.of().formatHex(sha256(json.toString()));
        StringBuilder suffix = new StringBuilder();
        for (char c : hex.substring(0, 10).toCharArray()) {
            suffix.append(
                    switch (c) {
                        case '0' -> 'g';
                        case '1' -> 'h';
                        case '3' -> 'k';
                        case 'a' -> 'm';
                        case 'e' -> 't';
                        default -> c;
                    });
        }
        return suffix.toString();
    }

    /** A JSON string as Go's encoding/json writes it: HTML characters and U+2028/9 escaped too. */
    private static String goString(String s) {
        StringBuilder out = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '<', '>', '&', '\u2028', '\u2029' -> out.append(String.format("\\u%04x", (int) c));
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.append('"').toString();
    }

    private static byte[] sha256(String text) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }
}
