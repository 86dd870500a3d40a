package dev.finetune.deploy.compose;

import dev.finetune.deploy.CredentialNames;
import dev.finetune.deploy.ManifestException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * Checks a docker-compose file without Docker: every service is known to Compose (no misspelt keys),
 * has a health check, builds from a Dockerfile that exists with the build args it declares, uses
 * only declared named volumes and existing bind sources, waits for its dependencies to be healthy,
 * publishes ports on 127.0.0.1 only, and takes credentials from variables, never literals. YAML
 * anchors and merge keys ({@code <<: *x}) are resolved as Compose does.
 */
public final class ComposeCheck {
    private static final Pattern DOCKERFILE_ARG = Pattern.compile("(?m)^\\s*ARG\\s+([A-Za-z_][A-Za-z0-9_]*)(=.*)?$");

    private final Path composeFile;
    private final String display;
    private final List<String> problems = new ArrayList<>();

    private ComposeCheck(Path composeFile) {
        this.composeFile = composeFile;
        this.display = composeFile.getFileName().toString();
    }

    /** Every problem found, each naming the file and the key path. */
    public static List<String> check(Path composeFile) {
        ComposeCheck check = new ComposeCheck(composeFile);
        check.run(load(composeFile));
        return check.problems;
    }

    /** The file as plain maps and lists, anchors and merge keys resolved; duplicate keys refused. */
    public static Map<String, Object> load(Path composeFile) {
        LoaderOptions options = new LoaderOptions();
        options.setAllowDuplicateKeys(false);
        try {
            Object root = new Yaml(new SafeConstructor(options)).load(Files.readString(composeFile));
            if (!(root instanceof Map<?, ?>)) {
                throw new ManifestException(composeFile + ": not a mapping");
            }
            return asMap(root);
        } catch (IOException | RuntimeException e) {
            throw new ManifestException(composeFile + ": " + e.getMessage(), e);
        }
    }

    private void run(Map<String, Object> root) {
        unknownKeys(root, ComposeKeys.TOP_LEVEL, "");
        Map<String, Object> services = asMap(root.get("services"));
        Set<String> declaredVolumes = asMap(root.get("volumes")).keySet();
        Set<String> usedVolumes = new HashSet<>();
        if (services.isEmpty()) {
            fail("services", "no services");
        }
        services.forEach((name, value) -> {
            Map<String, Object> service = asMap(value);
            String at = "services." + name;
            unknownKeys(service, ComposeKeys.SERVICE, at);
            if (!service.containsKey("image") && !service.containsKey("build")) {
                fail(at, "needs an image or a build");
            }
            healthcheck(service.get("healthcheck"), at + ".healthcheck");
            if (service.containsKey("build")) {
                build(service.get("build"), at + ".build");
            }
            volumes(service.get("volumes"), declaredVolumes, usedVolumes, at + ".volumes");
            dependsOn(service.get("depends_on"), services, at + ".depends_on");
            ports(service.get("ports"), at + ".ports");
            environment(service.get("environment"), at + ".environment");
        });
        for (String volume : declaredVolumes) {
            if (!usedVolumes.contains(volume)) {
                fail("volumes." + volume, "declared but no service uses it");
            }
        }
    }

    private void healthcheck(Object value, String at) {
        Map<String, Object> healthcheck = asMap(value);
        unknownKeys(healthcheck, ComposeKeys.HEALTHCHECK, at);
        Object test = healthcheck.get("test");
        boolean hasTest = test instanceof String s && !s.isBlank()
                || test instanceof List<?> l
                        && l.size() > 1
                        && List.of("CMD", "CMD-SHELL").contains(l.get(0));
        if (!hasTest || Boolean.TRUE.equals(healthcheck.get("disable"))) {
            fail(at, "every service needs a health check (test: [CMD, ...] or [CMD-SHELL, ...])");
        }
    }

    private void build(Object value, String at) {
        Map<String, Object> build = value instanceof String s ? Map.of("context", s) : asMap(value);
        unknownKeys(build, ComposeKeys.BUILD, at);
        Path context =
                composeFile.toAbsolutePath().getParent().resolve(String.valueOf(build.getOrDefault("context", ".")));
        Path dockerfile = context.resolve(String.valueOf(build.getOrDefault("dockerfile", "Dockerfile")))
                .normalize();
        if (!Files.isRegularFile(dockerfile)) {
            fail(at + ".dockerfile", dockerfile + " does not exist");
            return;
        }
        Set<String> declared = new HashSet<>();
        Set<String> required = new HashSet<>();
        Matcher arg = DOCKERFILE_ARG.matcher(read(dockerfile));
        while (arg.find()) {
            declared.add(arg.group(1));
            if (arg.group(2) == null) {
                required.add(arg.group(1));
            }
        }
        Set<String> given = asMap(build.get("args")).keySet();
        given.stream()
                .filter(name -> !declared.contains(name))
                .forEach(name -> fail(at + ".args." + name, "the Dockerfile declares no ARG " + name));
        required.stream()
                .filter(name -> !given.contains(name))
                .forEach(name -> fail(at + ".args", "the Dockerfile's ARG " + name + " has no default: give it"));
    }

    private void volumes(Object value, Set<String> declared, Set<String> used, String at) {
        for (Object entry : asList(value)) {
            String source = entry instanceof String s
                    ? (s.contains(":") ? s.substring(0, s.indexOf(':')) : "")
                    : String.valueOf(asMap(entry).getOrDefault("source", ""));
            if (source.isEmpty()) {
                continue;
            }
            if (source.startsWith(".") || source.startsWith("/") || source.startsWith("~")) {
                Path bind =
                        composeFile.toAbsolutePath().getParent().resolve(source).normalize();
                if (!Files.exists(bind)) {
                    fail(at, "bind source " + source + " does not exist");
                }
            } else if (!declared.contains(source)) {
                fail(at, "named volume " + source + " is not declared under the top-level volumes");
            } else {
                used.add(source);
            }
        }
    }

    private void dependsOn(Object value, Map<String, Object> services, String at) {
        if (value instanceof List<?>) {
            fail(at, "use the long form with condition: service_healthy, so the service waits for health");
            return;
        }
        asMap(value).forEach((dependency, spec) -> {
            String condition = String.valueOf(asMap(spec).get("condition"));
            if (!services.containsKey(dependency)) {
                fail(at + "." + dependency, "no such service");
            } else if (!Set.of("service_healthy", "service_completed_successfully")
                    .contains(condition)) {
                fail(at + "." + dependency + ".condition", "is " + condition + ", should be service_healthy");
            }
        });
    }

    private void ports(Object value, String at) {
        for (Object entry : asList(value)) {
            String hostIp;
            if (entry instanceof Map<?, ?> longForm) {
                hostIp = String.valueOf(longForm.get("host_ip"));
            } else { // [HOST_IP:]HOST_PORT:CONTAINER_PORT
                String[] parts = String.valueOf(entry).split(":");
                hostIp = parts.length == 3 ? parts[0] : "";
            }
            if (!hostIp.equals("127.0.0.1")) {
                fail(at, entry + " is published on every interface; bind it to 127.0.0.1");
            }
        }
    }

    private void environment(Object value, String at) {
        Map<String, Object> variables = new LinkedHashMap<>(asMap(value));
        for (Object entry : asList(value)) { // the list form: NAME=value
            String[] pair = String.valueOf(entry).split("=", 2);
            variables.put(pair[0], pair.length == 2 ? pair[1] : null);
        }
        variables.forEach((name, v) -> {
            if (CredentialNames.isCredential(name)
                    && v != null
                    && !String.valueOf(v).startsWith("${")) {
                fail(at + "." + name, "literal credential; use a variable (${" + name + ":-...})");
            }
        });
    }

    private void unknownKeys(Map<String, Object> map, Set<String> known, String at) {
        for (String key : map.keySet()) {
            if (!known.contains(key) && !key.startsWith("x-")) {
                fail(at.isEmpty() ? key : at + "." + key, "unknown key");
            }
        }
    }

    private void fail(String path, String message) {
        problems.add(display + ": " + path + ": " + message);
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new ManifestException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> asMap(Object value) {
        return value instanceof Map<?, ?> map ? (Map<String, Object>) map : Map.of();
    }

    static List<?> asList(Object value) {
        return value instanceof List<?> list ? list : List.of();
    }
}
