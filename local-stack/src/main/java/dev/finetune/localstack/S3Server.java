package dev.finetune.localstack;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * A real S3 server: s3proxy with its filesystem backend, run as a child JVM from its own
 * jar-with-dependencies. Objects are plain files under the data directory, so they survive a
 * restart of the server.
 *
 * <p>The child runs {@link ParentWatchdog}, which exits as soon as this process goes away, so a
 * killed test JVM never leaves an S3 server behind holding the port.
 */
public final class S3Server implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(S3Server.class);

    private final int port;
    private final Path dataDir;
    private final String accessKey;
    private final String secretKey;
    private Process process;

    /**
     * @param port the S3 port, 0 for a free one
     * @param dataDir the directory that holds buckets (as directories) and objects (as files)
     * @param accessKey the access key id clients sign with
     * @param secretKey the secret key clients sign with
     */
    public S3Server(int port, Path dataDir, String accessKey, String secretKey) {
        this.port = port == 0 ? FreePorts.find() : port;
        this.dataDir = dataDir;
        this.accessKey = accessKey;
        this.secretKey = secretKey;
    }

    /** Starts the child process and waits until it answers HTTP. */
    public S3Server start(Duration timeout) {
        if (process != null) {
            throw new IllegalStateException("S3 server already started on port " + port);
        }
        try {
            Path blobs = Files.createDirectories(dataDir.resolve("blobs"));
            Path config = dataDir.resolve("s3proxy.properties");
            writeConfig(config, blobs);
            Path log = dataDir.resolve("s3proxy.log");
            List<String> command = new ArrayList<>();
            command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            // s3proxy idles at ~100 MB; the cap keeps a busy test run from growing it unbounded.
            command.add("-Xmx512m");
            command.add("-XX:+UseSerialGC");
            command.add("-cp");
            command.add(S3ProxyJar.locate() + java.io.File.pathSeparator + ParentWatchdog.codeLocation());
            command.add(ParentWatchdog.class.getName());
            command.add("org.gaul.s3proxy.Main");
            command.add("--properties");
            command.add(config.toString());
            process = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .start();
            awaitHttp(timeout, log);
            LOG.infof("S3 server (s3proxy) listening on %s, data in %s", endpoint(), dataDir);
            return this;
        } catch (IOException e) {
            close();
            throw new LocalStackException("S3 server failed to start on port " + port + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            close();
            throw new LocalStackException("interrupted while starting the S3 server", e);
        }
    }

    public String endpoint() {
        return "http://127.0.0.1:" + port;
    }

    public int port() {
        return port;
    }

    public String accessKey() {
        return accessKey;
    }

    public String secretKey() {
        return secretKey;
    }

    private void writeConfig(Path config, Path blobs) throws IOException {
        Properties p = new Properties();
        p.setProperty("s3proxy.endpoint", endpoint());
        p.setProperty("s3proxy.authorization", "aws-v2-or-v4");
        p.setProperty("s3proxy.identity", accessKey);
        p.setProperty("s3proxy.credential", secretKey);
        p.setProperty("jclouds.provider", "filesystem");
        p.setProperty("jclouds.identity", accessKey);
        p.setProperty("jclouds.credential", secretKey);
        p.setProperty("jclouds.filesystem.basedir", blobs.toAbsolutePath().toString());
        try (OutputStream out = Files.newOutputStream(config)) {
            p.store(out, "written by dev.finetune.localstack.S3Server");
        }
    }

    private void awaitHttp(Duration timeout, Path log) throws IOException, InterruptedException {
        HttpClient client =
                HttpClient.newBuilder().connectTimeout(Duration.ofMillis(500)).build();
        URI uri;
        try {
            uri = new URI(endpoint() + "/");
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
        Instant deadline = Instant.now().plus(timeout);
        while (true) {
            if (!process.isAlive()) {
                throw new IOException("s3proxy exited with code " + process.exitValue() + "; its output: " + tail(log));
            }
            try {
                client.send(HttpRequest.newBuilder(uri).GET().build(), HttpResponse.BodyHandlers.discarding());
                return; // any HTTP answer (usually 403 for an unsigned request) means it is serving
            } catch (IOException notYet) {
                if (Instant.now().isAfter(deadline)) {
                    throw new IOException("s3proxy did not answer on " + endpoint() + " within " + timeout
                            + "; its output: " + tail(log));
                }
                Thread.sleep(100);
            }
        }
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
        } catch (IOException | UncheckedIOException e) {
            return "(no log at " + log + ")";
        }
    }

    @Override
    public void close() {
        Process p = process;
        process = null;
        if (p == null) {
            return;
        }
        p.destroy();
        try {
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
        }
        try (InputStream ignored = p.getInputStream()) {
            // closing releases the pipe; the output went to the log file
        } catch (IOException e) {
            LOG.debugf(e, "closing s3proxy's stdout");
        }
        LOG.infof("S3 server on port %d stopped", port);
    }
}
