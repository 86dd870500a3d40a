package dev.finetune.service.metrics;

import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * How far consumer groups are behind their topics, asked of the brokers with an admin client: per
 * (topic, group), the sum over the topic's partitions of its end offset minus the group's committed
 * offset. A partition the group has not committed yet counts from its earliest offset, since our
 * consumers start there ({@code auto.offset.reset=earliest}). Every broker call shares one deadline,
 * so a broker that is away costs at most {@code timeout}, and a pair that could not be computed is
 * left out of the answer rather than guessed.
 */
public final class ConsumerLag {
    /** A consumer group reading a topic. */
    public record Subscription(String topic, String group) {}

    private final Admin admin;
    private final Duration timeout;

    public ConsumerLag(Admin admin, Duration timeout) {
        this.admin = admin;
        this.timeout = timeout;
    }

    /** The lag of each subscription that could be computed before the deadline. */
    public Map<Subscription, Long> read(Collection<Subscription> subscriptions) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        Set<String> topics = new HashSet<>();
        subscriptions.forEach(s -> topics.add(s.topic()));
        Map<String, TopicDescription> described = new HashMap<>();
        admin.describeTopics(topics).topicNameValues().forEach((topic, future) -> {
            try {
                described.put(topic, future.get(remaining(deadline), TimeUnit.NANOSECONDS));
            } catch (ExecutionException | TimeoutException e) {
                // No such topic yet, or the broker is away: its subscriptions have no lag to report.
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        if (Thread.interrupted()) {
            throw new InterruptedException("interrupted while describing " + topics);
        }
        Set<TopicPartition> partitions = new HashSet<>();
        described.values().forEach(d -> d.partitions()
                .forEach(p -> partitions.add(new TopicPartition(d.name(), p.partition()))));
        if (partitions.isEmpty()) {
            return Map.of();
        }
        Map<TopicPartition, Long> earliest = offsets(partitions, OffsetSpec.earliest(), deadline);
        Map<TopicPartition, Long> latest = offsets(partitions, OffsetSpec.latest(), deadline);
        Map<Subscription, Long> lags = new LinkedHashMap<>();
        for (Subscription s : subscriptions) {
            TopicDescription topic = described.get(s.topic());
            Map<TopicPartition, OffsetAndMetadata> committed = committed(s.group(), deadline);
            if (topic == null || committed == null) {
                continue;
            }
            OptionalLong lag = lag(topic, committed, earliest, latest);
            lag.ifPresent(value -> lags.put(s, value));
        }
        return lags;
    }

    private static OptionalLong lag(
            TopicDescription topic,
            Map<TopicPartition, OffsetAndMetadata> committed,
            Map<TopicPartition, Long> earliest,
            Map<TopicPartition, Long> latest) {
        long sum = 0;
        for (var p : topic.partitions()) {
            TopicPartition tp = new TopicPartition(topic.name(), p.partition());
            Long end = latest.get(tp);
            Long start = earliest.get(tp);
            if (end == null || start == null) {
                return OptionalLong.empty(); // a partition's offsets are unknown: the sum would lie
            }
            OffsetAndMetadata done = committed.get(tp);
            long position = done == null ? start : Math.max(start, done.offset());
            sum += Math.max(0, end - position);
        }
        return OptionalLong.of(sum);
    }

    private Map<TopicPartition, Long> offsets(Set<TopicPartition> partitions, OffsetSpec spec, long deadline)
            throws InterruptedException {
        Map<TopicPartition, OffsetSpec> request = new HashMap<>();
        partitions.forEach(tp -> request.put(tp, spec));
        try {
            Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> result =
                    admin.listOffsets(request).all().get(remaining(deadline), TimeUnit.NANOSECONDS);
            Map<TopicPartition, Long> offsets = new HashMap<>();
            result.forEach((tp, info) -> offsets.put(tp, info.offset()));
            return offsets;
        } catch (ExecutionException | TimeoutException e) {
            return Map.of();
        }
    }

    /** The group's committed offsets (empty if it never committed), or null if the broker did not say. */
    private Map<TopicPartition, OffsetAndMetadata> committed(String group, long deadline) throws InterruptedException {
        try {
            Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(group)
                    .partitionsToOffsetAndMetadata()
                    .get(remaining(deadline), TimeUnit.NANOSECONDS);
            Map<TopicPartition, OffsetAndMetadata> present = new HashMap<>();
            offsets.forEach((tp, offset) -> {
                if (offset != null) {
                    present.put(tp, offset);
                }
            });
            return present;
        } catch (ExecutionException | TimeoutException e) {
            return null;
        }
    }

    private static long remaining(long deadline) {
        return Math.max(0, deadline - System.nanoTime());
    }
}
