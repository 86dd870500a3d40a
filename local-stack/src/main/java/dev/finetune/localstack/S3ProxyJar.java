package dev.finetune.localstack;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/**
 * Finds the s3proxy server jar. The build resolves it into the local Maven repository and records
 * the path in {@code local-stack.properties}; {@code -Dlocalstack.s3proxy.jar} or the environment
 * variable {@code LOCALSTACK_S3PROXY_JAR} override it (e.g. in a container image).
 */
final class S3ProxyJar {
    private S3ProxyJar() {}

    static Path locate() {
        List<String> candidates = new ArrayList<>();
        candidates.add(System.getProperty("localstack.s3proxy.jar"));
        candidates.add(System.getenv("LOCALSTACK_S3PROXY_JAR"));
        Properties built = buildProperties();
        candidates.add(built.getProperty("s3proxy.jar.build"));
        candidates.add(built.getProperty("s3proxy.jar.repository"));
        List<String> tried = new ArrayList<>();
        for (String candidate : candidates) {
            if (candidate == null || candidate.isBlank() || candidate.contains("${")) {
                continue;
            }
            Path path = Path.of(candidate);
            if (Files.isRegularFile(path)) {
                return path;
            }
            tried.add(candidate);
        }
        throw new LocalStackException("the s3proxy server jar (org.gaul:s3proxy:"
                + built.getProperty("s3proxy.version", "?") + ":jar-with-dependencies) was not found; tried "
                + tried + ". Build the local-stack module (./mvnw -pl local-stack -am package) or set "
                + "-Dlocalstack.s3proxy.jar");
    }

    private static Properties buildProperties() {
        Properties props = new Properties();
        try (InputStream in = S3ProxyJar.class.getResourceAsStream("/local-stack.properties")) {
            if (in != null) {
                props.load(in);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("reading local-stack.properties", e);
        }
        return props;
    }
}
