package dev.finetune.service.metrics;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.eclipse.microprofile.config.Config;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * {@code finetune_kafka_consumer_lag_records{topic,group}} for each incoming channel of the service
 * ({@link KafkaChannels}). The lag is read off the request path by a task of its own every {@code
 * pipeline.metrics.consumer-lag.interval}, each read bounded by {@code
 * pipeline.metrics.consumer-lag.timeout}; a scrape only reads the last value. While the brokers are
 * away (or before the first read) the gauge is NaN: no number is better than an old one.
 */
@ApplicationScoped
public class ConsumerLagMetrics {
    private static final Logger LOG = Logger.getLogger(ConsumerLagMetrics.class);

    private final MeterRegistry registry;
    private final Config config;
    private final Duration interval;
    private final Duration timeout;
    private final Map<ConsumerLag.Subscription, Double> lags = new ConcurrentHashMap<>();
    private ScheduledExecutorService refresher;
    private Admin admin;

    ConsumerLagMetrics(
            MeterRegistry registry,
            Config config,
            @ConfigProperty(name = "pipeline.metrics.consumer-lag.interval", defaultValue = "30s") Duration interval,
            @ConfigProperty(name = "pipeline.metrics.consumer-lag.timeout", defaultValue = "5s") Duration timeout) {
        this.registry = registry;
        this.config = config;
        this.interval = interval;
        this.timeout = timeout;
    }

    synchronized void start(@Observes StartupEvent event) {
        List<ConsumerLag.Subscription> subscriptions = KafkaChannels.incoming(config).stream()
                .map(c -> new ConsumerLag.Subscription(c.topic(), c.group()))
                .distinct()
                .toList();
        if (subscriptions.isEmpty()) {
            return;
        }
        for (ConsumerLag.Subscription s : subscriptions) {
            lags.put(s, Double.NaN);
            Recording.safely("consumer lag gauge", () -> Gauge.builder(
                            "finetune.kafka.consumer.lag.records", lags, l -> l.getOrDefault(s, Double.NaN))
                    .description("Records a consumer group has yet to read of a topic: end offsets minus"
                            + " committed offsets, summed over partitions; NaN while the brokers are away")
                    .tags("topic", s.topic(), "group", s.group())
                    .register(registry));
        }
        admin = Admin.create(adminConfig());
        ConsumerLag reader = new ConsumerLag(admin, timeout);
        refresher = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "consumer-lag");
            t.setDaemon(true);
            return t;
        });
        refresher.scheduleWithFixedDelay(
                () -> refresh(reader, subscriptions), 0, interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void refresh(ConsumerLag reader, List<ConsumerLag.Subscription> subscriptions) {
        try {
            Map<ConsumerLag.Subscription, Long> read = reader.read(subscriptions);
            for (ConsumerLag.Subscription s : subscriptions) {
                Long lag = read.get(s);
                lags.put(s, lag == null ? Double.NaN : lag.doubleValue());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            subscriptions.forEach(s -> lags.put(s, Double.NaN));
            LOG.debugf(e, "consumer lag not read");
        }
    }

    /** The service's {@code kafka.*} settings (as its channels use them), with this task's deadline. */
    private Map<String, Object> adminConfig() {
        Map<String, Object> settings = new HashMap<>();
        for (String key : AdminClientConfig.configNames()) {
            config.getOptionalValue("kafka." + key, String.class).ifPresent(v -> settings.put(key, v));
        }
        settings.putIfAbsent(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, "localhost:9092");
        settings.put(
                AdminClientConfig.CLIENT_ID_CONFIG,
                "consumer-lag-"
                        + config.getOptionalValue("quarkus.application.name", String.class)
                                .orElse("service"));
        int millis = (int) timeout.toMillis();
        settings.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, millis);
        settings.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, millis);
        return settings;
    }

    @PreDestroy
    synchronized void stop() {
        if (refresher != null) {
            refresher.shutdownNow();
        }
        if (admin != null) {
            admin.close(Duration.ofSeconds(1));
        }
    }
}
