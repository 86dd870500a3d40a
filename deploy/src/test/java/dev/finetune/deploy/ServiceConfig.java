package dev.finetune.deploy;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** What the services' own configuration says: their Kafka channels and the variables they read. */
final class ServiceConfig {
    private static final Pattern CHANNEL_TOPIC =
            Pattern.compile("mp\\.messaging\\.(incoming|outgoing)\\.([^.]+)\\.topic");
    private static final Pattern VARIABLE = Pattern.compile("\\$\\{([A-Z][A-Z0-9_]*)");

    /**
     * A SmallRye channel of a service: its topic, and for incoming ones the group, dead-letter topic
     * and failure strategy.
     */
    record Channel(
            String service,
            boolean incoming,
            String name,
            String topic,
            String group,
            String deadLetterTopic,
            String failureStrategy) {}

    private ServiceConfig() {}

    /** The files the services read: each service's application.properties and the shared defaults. */
    static List<Path> files() {
        List<Path> files = new ArrayList<>();
        Repo.SERVICES.forEach(s -> files.add(Repo.ROOT.resolve(s + "/src/main/resources/application.properties")));
        files.add(Repo.ROOT.resolve("service-runtime/src/main/resources/META-INF/microprofile-config.properties"));
        return files;
    }

    static List<Channel> channels() {
        List<Channel> channels = new ArrayList<>();
        for (Path file : files()) {
            Properties p = load(file);
            String service = Repo.ROOT.relativize(file).getName(0).toString();
            for (String key : p.stringPropertyNames()) {
                Matcher m = CHANNEL_TOPIC.matcher(key);
                if (m.matches()) {
                    String prefix = "mp.messaging." + m.group(1) + "." + m.group(2) + ".";
                    channels.add(new Channel(
                            service,
                            m.group(1).equals("incoming"),
                            m.group(2),
                            p.getProperty(key),
                            p.getProperty(prefix + "group.id"),
                            p.getProperty(prefix + "dead-letter-queue.topic"),
                            p.getProperty(prefix + "failure-strategy")));
                }
            }
        }
        return channels;
    }

    /** Environment variables the properties files read through {@code ${NAME...}} expressions. */
    static Set<String> variablesReferenced() {
        Set<String> names = new TreeSet<>();
        for (Path file : files()) {
            Matcher m = VARIABLE.matcher(read(file));
            while (m.find()) {
                names.add(m.group(1));
            }
        }
        return names;
    }

    static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Properties load(Path file) {
        Properties p = new Properties();
        try (Reader reader = Files.newBufferedReader(file)) {
            p.load(reader);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return p;
    }
}
