package dev.finetune.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.finetune.deploy.validation.ManifestValidator;
import dev.finetune.deploy.validation.ScaledJob;
import dev.finetune.deploy.validation.ScaledObject;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Service;
import io.strimzi.api.kafka.model.kafka.Kafka;
import io.strimzi.api.kafka.model.topic.KafkaTopic;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The manifests agree with the services' own configuration and with each other on names and addresses. */
class PipelineWiringTest {
    private static final Path COLLECTOR_CONFIG = Repo.DEPLOY.resolve("observability/collector.yaml");

    @Test
    void everyTopicTheServicesUseIsAKafkaTopicAndNoOtherIs() {
        Set<String> used = new TreeSet<>();
        for (ServiceConfig.Channel channel : ServiceConfig.channels()) {
            used.add(channel.topic());
            if (channel.deadLetterTopic() != null) {
                used.add(channel.deadLetterTopic());
            }
        }

        Set<String> declared = Repo.validate("base").all(KafkaTopic.class).stream()
                .map(t -> t.getMetadata().getName())
                .collect(Collectors.toCollection(TreeSet::new));

        assertThat(declared).isEqualTo(used);
    }

    @Test
    void everyConsumerDeadLettersToItsTopicDlqGroupTopic() {
        var consumers = ServiceConfig.channels().stream()
                .filter(c -> c.incoming() && !"ignore".equals(c.failureStrategy()))
                .toList();

        assertThat(consumers).isNotEmpty().allSatisfy(c -> assertThat(c.deadLetterTopic())
                .as(c.service() + " channel " + c.name())
                .isEqualTo(c.topic() + ".dlq." + c.group()));
    }

    /**
     * Only feeds whose records are disposable skip what they cannot read (failure-strategy ignore):
     * the Kafka round-trip probe and the live job events of the SSE stream, which a client re-reads
     * from the job's stored log. Any other consumer ignoring failures would lose work.
     */
    @Test
    void onlyDisposableFeedsIgnoreFailures() {
        assertThat(ServiceConfig.channels().stream()
                        .filter(c -> c.incoming() && "ignore".equals(c.failureStrategy()))
                        .map(ServiceConfig.Channel::name))
                .containsExactlyInAnyOrder("diagnostics-in", "training-events-live");
    }

    @ParameterizedTest
    @ValueSource(strings = {"overlays/dev", "overlays/gpu"})
    void trainingWorkersRunOneJobPerRequestOfTheirConsumerGroup(String overlay) {
        ManifestValidator.Validation validation = Repo.validate(overlay);
        ServiceConfig.Channel jobs = ServiceConfig.channels().stream()
                .filter(c -> c.service().equals("training-service") && c.incoming())
                .filter(c -> c.topic().equals("training.jobs"))
                .findFirst()
                .orElseThrow();
        assertThat(validation.all(ScaledObject.class))
                .as("no Deployment is scaled for training")
                .isEmpty();
        ScaledJob.Spec workers = validation.all(ScaledJob.class).get(0).spec();
        var trigger = workers.triggers().get(0);
        KafkaTopic topic = validation.all(KafkaTopic.class).stream()
                .filter(t -> t.getMetadata().getName().equals(jobs.topic()))
                .findFirst()
                .orElseThrow();

        assertThat(trigger.metadata())
                .containsEntry("consumerGroup", jobs.group())
                .containsEntry("topic", jobs.topic())
                .containsEntry("lagThreshold", "1")
                .containsEntry("bootstrapServers", inNamespace(setting(validation, "KAFKA_BOOTSTRAP_SERVERS"), topic));
        assertThat(trigger.authenticationRef().name())
                .as("KEDA reads the lag with the services' Kafka credentials")
                .isEqualTo("pipeline-kafka");
        assertThat(workers.scalingStrategy().strategy())
                .as("the lag counts running jobs (committed at their end), so running Jobs are subtracted")
                .isEqualTo("default");
        assertThat(workers.maxReplicaCount())
                .isLessThanOrEqualTo(topic.getSpec().getPartitions());
        assertThat(workers.jobTargetRef().getTemplate().getSpec().getRestartPolicy())
                .isEqualTo("Never");
    }

    @ParameterizedTest
    @ValueSource(strings = {"overlays/dev", "overlays/gpu"})
    void servicesSendTheirSpansToTheCollector(String overlay) {
        ManifestValidator.Validation validation = Repo.validate(overlay);

        assertServes(validation, URI.create(setting(validation, "OTEL_EXPORTER_OTLP_ENDPOINT")));
    }

    @Test
    void devStackServesTheBrokerStoreAndTraceBackendTheSettingsName() {
        ManifestValidator.Validation dev = Repo.validate("overlays/dev");
        URI kafka = URI.create("kafka://" + setting(dev, "KAFKA_BOOTSTRAP_SERVERS"));
        Kafka cluster = dev.all(Kafka.class).get(0);
        String traceBackend = Repo.env(
                        Repo.container(Repo.deployment(dev, "otel-collector")), "TRACES_BACKEND_ENDPOINT")
                .getValue();

        assertThat(kafka.getHost()).isEqualTo(cluster.getMetadata().getName() + "-kafka-bootstrap");
        assertThat(cluster.getSpec().getKafka().getListeners())
                .anySatisfy(l -> assertThat(l.getPort()).isEqualTo(kafka.getPort()));
        assertServes(dev, URI.create(setting(dev, "PIPELINE_OBJECT_STORE_ENDPOINT")));
        assertServes(dev, URI.create("grpc://" + traceBackend));
    }

    @Test
    void collectorPipelinesUseOnlyComponentsTheConfigurationDefines() {
        ObjectNode config =
                YamlDocuments.read(COLLECTOR_CONFIG, "collector.yaml").get(0);
        JsonNode service = config.path("service");

        assertThat(names(service.path("extensions"))).isNotEmpty().isSubsetOf(names(config.path("extensions")));
        assertThat(service.path("pipelines").path("traces").isObject()).isTrue();
        service.path("pipelines").forEach(pipeline -> {
            for (String kind : List.of("receivers", "processors", "exporters")) {
                assertThat(names(pipeline.path(kind))).isSubsetOf(names(config.path(kind)));
            }
        });
    }

    @Test
    void collectorListensOnThePortsItsServiceAndProbesUse() {
        ObjectNode config =
                YamlDocuments.read(COLLECTOR_CONFIG, "collector.yaml").get(0);
        Container collector = Repo.container(Repo.deployment(Repo.validate("observability"), "otel-collector"));

        assertThat(port(collector, "otlp-grpc"))
                .isEqualTo(portOf(config.at("/receivers/otlp/protocols/grpc/endpoint")))
                .isEqualTo(4317);
        assertThat(port(collector, "otlp-http"))
                .isEqualTo(portOf(config.at("/receivers/otlp/protocols/http/endpoint")));
        assertThat(port(collector, "health")).isEqualTo(portOf(config.at("/extensions/health_check/endpoint")));
        assertThat(collector.getLivenessProbe().getHttpGet().getPort().getStrVal())
                .isEqualTo("health");
    }

    private static int port(Container container, String name) {
        return container.getPorts().stream()
                .filter(p -> name.equals(p.getName()))
                .findFirst()
                .orElseThrow()
                .getContainerPort();
    }

    private static int portOf(JsonNode endpoint) {
        String text = endpoint.asText();
        return Integer.parseInt(text.substring(text.lastIndexOf(':') + 1));
    }

    /** The names in a list (pipelines) or the keys of a map (definitions). */
    private static Set<String> names(JsonNode node) {
        Set<String> names = new TreeSet<>();
        if (node.isArray()) {
            node.forEach(n -> names.add(n.asText()));
        } else {
            node.fieldNames().forEachRemaining(names::add);
        }
        return names;
    }

    private static void assertServes(ManifestValidator.Validation validation, URI address) {
        assertThat(validation.all(Service.class))
                .as("a Service %s with port %d", address.getHost(), address.getPort())
                .anySatisfy(s -> {
                    assertThat(s.getMetadata().getName()).isEqualTo(address.getHost());
                    assertThat(s.getSpec().getPorts())
                            .anySatisfy(p -> assertThat(p.getPort()).isEqualTo(address.getPort()));
                });
    }

    /**
     * The services reach the broker by its short name; KEDA's operator runs in its own namespace and
     * needs the name qualified with the pipeline's.
     */
    private static String inNamespace(String hostAndPort, KafkaTopic sameNamespaceAs) {
        URI address = URI.create("kafka://" + hostAndPort);
        return address.getHost() + "." + sameNamespaceAs.getMetadata().getNamespace() + ".svc:" + address.getPort();
    }

    /** A value of the generated pipeline-settings ConfigMap. */
    static String setting(ManifestValidator.Validation validation, String key) {
        return validation.all(ConfigMap.class).stream()
                .filter(c -> c.getMetadata().getName().startsWith("pipeline-settings-"))
                .findFirst()
                .orElseThrow()
                .getData()
                .get(key);
    }
}
