package dev.finetune.service.messaging;

import io.smallrye.reactive.messaging.ClientCustomizer;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.eclipse.microprofile.config.Config;

/**
 * Every producer of every service writes with {@code acks=all} and the idempotent producer on, so
 * the producer's own retries (a broker that restarts under a send) never write a record twice.
 *
 * <p>SmallRye's default is {@code acks=1}, under which the Kafka client turns idempotence off
 * without a word: after a broker outage the retried batch of an event then landed twice, with one
 * CloudEvents id. Set here, once, rather than in every outgoing channel's configuration; consumers
 * (configs without a value serializer) are left as they are.
 */
@ApplicationScoped
public class DurableProducers implements ClientCustomizer<Map<String, Object>> {
    @Override
    public Map<String, Object> customize(String channel, Config channelConfig, Map<String, Object> config) {
        if (config.containsKey(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG)) {
            config.put(ProducerConfig.ACKS_CONFIG, "all");
            config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        }
        return config;
    }
}
