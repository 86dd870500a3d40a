package dev.finetune.service.metrics;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.eclipse.microprofile.config.Config;

/**
 * The service's incoming Kafka channels as its configuration declares them: the topic each reads
 * and the consumer group it reads in. These are the {@code topic} and {@code group} labels of the
 * Kafka metrics, so their values are as few as the channels.
 */
public final class KafkaChannels {
    private static final Pattern TOPIC = Pattern.compile("mp\\.messaging\\.incoming\\.([^.]+)\\.topic");
    /**
     * The Kafka round-trip probe reads in a group of its own per instance, and its records are
     * disposable: neither its lag nor its group belongs on a dashboard.
     */
    static final String DIAGNOSTICS_CHANNEL = "diagnostics-in";

    /** One incoming channel: its name, topic and group. */
    public record Channel(String name, String topic, String group) {}

    private KafkaChannels() {}

    /** Every incoming channel with a topic, but the diagnostics probe. */
    public static List<Channel> incoming(Config config) {
        List<Channel> channels = new ArrayList<>();
        for (String property : config.getPropertyNames()) {
            Matcher m = TOPIC.matcher(property);
            if (m.matches() && !m.group(1).equals(DIAGNOSTICS_CHANNEL)) {
                String name = m.group(1);
                config.getOptionalValue(property, String.class)
                        .ifPresent(topic -> channels.add(new Channel(name, topic, group(config, name))));
            }
        }
        channels.sort(java.util.Comparator.comparing(Channel::name));
        return channels;
    }

    /** The group a channel reads in: its own {@code group.id}, else the shared one, else the application's name. */
    public static String group(Config config, String channel) {
        return config.getOptionalValue("mp.messaging.incoming." + channel + ".group.id", String.class)
                .or(() -> config.getOptionalValue("kafka.group.id", String.class))
                .or(() -> config.getOptionalValue("quarkus.application.name", String.class))
                .orElse("unknown");
    }

    /** The incoming channel whose dead-letter topic is {@code deadLetterTopic}, if one is. */
    public static Optional<Channel> deadLetteringInto(Config config, String deadLetterTopic) {
        return incoming(config).stream()
                .filter(c -> deadLetterTopic.equals(config.getOptionalValue(
                                "mp.messaging.incoming." + c.name() + ".dead-letter-queue.topic", String.class)
                        .orElse("dead-letter-topic-" + c.name()))) // SmallRye's default name
                .findFirst();
    }
}
