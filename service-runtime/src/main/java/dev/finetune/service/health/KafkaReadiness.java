package dev.finetune.service.health;

import io.smallrye.health.api.AsyncHealthCheck;
import io.smallrye.mutiny.Uni;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.common.Node;
import org.eclipse.microprofile.config.Config;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/**
 * Ready only while the Kafka cluster answers a metadata request. Quarkus' own Kafka check
 * ({@code quarkus.kafka.health.enabled}) waits for the admin client's default timeout, over 3 s when
 * the broker is away, so readiness probes time out instead of reading DOWN; this one asks with an
 * 800 ms deadline and answers within a second ({@link BoundedCheck}). The admin client is made once,
 * from the service's {@code kafka.*} settings (the same ones its channels use), and reconnects by
 * itself when the broker returns.
 */
@Readiness
@ApplicationScoped
public class KafkaReadiness implements AsyncHealthCheck {
    private static final int REQUEST_TIMEOUT_MS = 800;

    private final Map<String, Object> adminConfig;
    private Admin admin;

    KafkaReadiness(Config config) {
        Map<String, Object> settings = new HashMap<>();
        // Looked up by name, not listed: KAFKA_BOOTSTRAP_SERVERS and the like come from the environment.
        for (String key : AdminClientConfig.configNames()) {
            config.getOptionalValue("kafka." + key, String.class).ifPresent(v -> settings.put(key, v));
        }
        settings.putIfAbsent(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, "localhost:9092"); // Quarkus' default
        settings.put(
                AdminClientConfig.CLIENT_ID_CONFIG,
                "readiness-"
                        + config.getOptionalValue("quarkus.application.name", String.class)
                                .orElse("service"));
        settings.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, REQUEST_TIMEOUT_MS);
        settings.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, REQUEST_TIMEOUT_MS);
        this.adminConfig = Map.copyOf(settings);
    }

    @Override
    public Uni<HealthCheckResponse> call() {
        Object servers = adminConfig.get(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG);
        return BoundedCheck.within(
                () -> HealthCheckResponse.named("kafka").withData("bootstrap.servers", String.valueOf(servers)),
                () -> HealthCheckResponse.named("kafka")
                        .up()
                        .withData("bootstrap.servers", String.valueOf(servers))
                        .withData("nodes", nodes())
                        .build());
    }

    private String nodes() {
        try {
            return admin()
                    .describeCluster(new DescribeClusterOptions().timeoutMs(REQUEST_TIMEOUT_MS))
                    .nodes()
                    .get(REQUEST_TIMEOUT_MS, TimeUnit.MILLISECONDS)
                    .stream()
                    .map(Node::toString)
                    .collect(Collectors.joining(","));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while asking the brokers", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException(String.valueOf(e.getCause().getMessage()), e.getCause());
        } catch (TimeoutException e) {
            throw new IllegalStateException("the brokers did not answer within " + REQUEST_TIMEOUT_MS + " ms", e);
        }
    }

    private synchronized Admin admin() {
        if (admin == null) {
            admin = Admin.create(adminConfig);
        }
        return admin;
    }

    @PreDestroy
    synchronized void close() {
        if (admin != null) {
            admin.close(java.time.Duration.ofSeconds(1));
        }
    }
}
