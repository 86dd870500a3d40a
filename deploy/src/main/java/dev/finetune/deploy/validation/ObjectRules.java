package dev.finetune.deploy.validation;

import dev.finetune.deploy.render.Resource;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.strimzi.api.kafka.model.kafka.Kafka;
import io.strimzi.api.kafka.model.nodepool.KafkaNodePool;
import io.strimzi.api.kafka.model.topic.KafkaTopic;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.kafka.common.config.TopicConfig;

/** The fields each kind needs to be accepted and to work, beyond what deserialization checks. */
final class ObjectRules {
    /** Every topic-level setting Kafka knows (TopicConfig's *_CONFIG constants). */
    static final Set<String> TOPIC_CONFIGS = Arrays.stream(TopicConfig.class.getFields())
            .filter(f -> Modifier.isStatic(f.getModifiers()) && f.getName().endsWith("_CONFIG"))
            .map(ObjectRules::constant)
            .collect(Collectors.toUnmodifiableSet());

    /**
     * Every trigger metadata key of KEDA's kafka scaler (pkg/scalers/kafka_scaler.go, kafkaMetadata);
     * the first three may instead name a variable of the scaled container ({@code ...FromEnv}).
     */
    static final Set<String> KAFKA_TRIGGER_KEYS = Set.of(
            "bootstrapServers",
            "consumerGroup",
            "topic",
            "bootstrapServersFromEnv",
            "consumerGroupFromEnv",
            "topicFromEnv",
            "partitionLimitation",
            "lagThreshold",
            "activationLagThreshold",
            "offsetResetPolicy",
            "allowIdleConsumers",
            "excludePersistentLag",
            "scaleToZeroOnInvalidOffset",
            "limitToPartitionsWithLag",
            "ensureEvenDistributionOfPartitions",
            "fullMetadata",
            "version",
            "tls",
            "unsafeSsl",
            "sasl",
            "saslTokenProvider",
            "awsRegion");

    private ObjectRules() {}

    static void check(Resource resource, Object object, List<ManifestProblem> problems) {
        Rules rules = new Rules(resource.describe(), problems);
        if (object instanceof HasMetadata meta) {
            metadata(meta.getMetadata(), rules);
        }
        if (object instanceof Deployment deployment) {
            deployment(deployment, rules);
        } else if (object instanceof Service service) {
            service(service, rules);
        } else if (object instanceof ConfigMap configMap && configMap.getData() != null) {
            configMap
                    .getData()
                    .keySet()
                    .forEach(key ->
                            rules.require(key.matches("[-._a-zA-Z0-9]+"), "data." + key, "not a valid ConfigMap key"));
        } else if (object instanceof KafkaTopic topic) {
            kafkaTopic(topic, rules);
        } else if (object instanceof KafkaNodePool pool) {
            rules.require(pool.getSpec() != null && pool.getSpec().getReplicas() >= 1, "spec.replicas", "must be >= 1");
            rules.require(pool.getSpec() != null && !isEmpty(pool.getSpec().getRoles()), "spec.roles", "required");
            strimziCluster(pool.getMetadata(), rules);
        } else if (object instanceof Kafka kafka) {
            boolean listeners = kafka.getSpec() != null
                    && kafka.getSpec().getKafka() != null
                    && !isEmpty(kafka.getSpec().getKafka().getListeners());
            rules.require(listeners, "spec.kafka.listeners", "at least one listener is required");
        } else if (object instanceof ScaledObject scaledObject) {
            metadata(scaledObject.metadata(), rules);
            scaledObject(scaledObject, rules);
        } else if (object instanceof ScaledJob scaledJob) {
            metadata(scaledJob.metadata(), rules);
            scaledJob(scaledJob, rules);
        } else if (object instanceof TriggerAuthentication authentication) {
            metadata(authentication.metadata(), rules);
            boolean sources = authentication.spec() != null
                    && !(isEmpty(authentication.spec().secretTargetRef())
                            && isEmpty(authentication.spec().configMapTargetRef())
                            && isEmpty(authentication.spec().env()));
            rules.require(sources, "spec", "names no parameter source");
        } else if (object instanceof ServiceMonitor serviceMonitor) {
            metadata(serviceMonitor.metadata(), rules);
            serviceMonitor(serviceMonitor, rules);
        } else if (object instanceof PrometheusRule prometheusRule) {
            metadata(prometheusRule.metadata(), rules);
            if (prometheusRule.spec() == null) {
                rules.fail("spec", "required");
            } else {
                RuleGroups.check(prometheusRule.spec().groups(), "spec.groups")
                        .forEach(problem -> rules.fail(problem.path(), problem.message()));
            }
        }
    }

    private static void serviceMonitor(ServiceMonitor serviceMonitor, Rules rules) {
        ServiceMonitor.Spec spec = serviceMonitor.spec();
        if (spec == null || spec.selector() == null) {
            rules.fail("spec.selector", "required");
            return;
        }
        boolean selects = !isEmpty(spec.selector().getMatchExpressions())
                || spec.selector().getMatchLabels() != null
                        && !spec.selector().getMatchLabels().isEmpty();
        rules.require(selects, "spec.selector", "empty: it would scrape every Service in the namespace");
        if (isEmpty(spec.endpoints())) {
            rules.fail("spec.endpoints", "at least one endpoint is required");
            return;
        }
        for (ServiceMonitor.Endpoint endpoint : spec.endpoints()) {
            String at = "spec.endpoints[" + endpoint.port() + "]";
            rules.require(
                    endpoint.port() != null && Names.isPortName(endpoint.port()),
                    at + ".port",
                    "required: the name of a port of the selected Services");
            rules.require(
                    endpoint.path() == null || endpoint.path().startsWith("/"), at + ".path", "must start with /");
            rules.require(
                    endpoint.interval() == null || RuleGroups.isDuration(endpoint.interval()),
                    at + ".interval",
                    "not a Prometheus duration: " + endpoint.interval());
            rules.require(
                    endpoint.scrapeTimeout() == null || RuleGroups.isDuration(endpoint.scrapeTimeout()),
                    at + ".scrapeTimeout",
                    "not a Prometheus duration: " + endpoint.scrapeTimeout());
        }
    }

    private static void metadata(ObjectMeta metadata, Rules rules) {
        if (metadata == null) {
            rules.fail("metadata", "required");
            return;
        }
        rules.require(Names.isSubdomain(metadata.getName()), "metadata.name", "not a DNS subdomain name");
        if (metadata.getLabels() != null) {
            metadata.getLabels()
                    .forEach((key, value) -> rules.require(
                            value != null && Names.isLabelValue(value),
                            "metadata.labels." + key,
                            "not a valid label value"));
        }
    }

    private static void deployment(Deployment deployment, Rules rules) {
        if (deployment.getSpec() == null || deployment.getSpec().getTemplate() == null) {
            rules.fail("spec.template", "required");
            return;
        }
        var template = deployment.getSpec().getTemplate();
        Map<String, String> selector = deployment.getSpec().getSelector() == null
                ? Map.of()
                : deployment.getSpec().getSelector().getMatchLabels();
        Map<String, String> labels = template.getMetadata() == null
                ? Map.of()
                : template.getMetadata().getLabels();
        rules.require(selector != null && !selector.isEmpty(), "spec.selector.matchLabels", "required");
        if (selector != null && labels != null) {
            rules.require(
                    labels.entrySet().containsAll(selector.entrySet()),
                    "spec.selector",
                    "does not match the pod template's labels " + labels);
        }
        PodSpecRules.check(template.getSpec(), "spec.template.spec", rules);
    }

    private static void service(Service service, Rules rules) {
        rules.require(Names.isServiceName(service.getMetadata().getName()), "metadata.name", "not a DNS-1035 label");
        var spec = service.getSpec();
        if (spec == null || isEmpty(spec.getPorts())) {
            rules.fail("spec.ports", "at least one port is required");
            return;
        }
        rules.require(spec.getSelector() != null && !spec.getSelector().isEmpty(), "spec.selector", "required");
        Set<String> names = new HashSet<>();
        for (ServicePort port : spec.getPorts()) {
            String at = "spec.ports[" + port.getName() + "]";
            rules.require(
                    port.getPort() != null && port.getPort() > 0 && port.getPort() < 65536, at + ".port", "1-65535");
            rules.require(
                    spec.getPorts().size() == 1 || port.getName() != null && names.add(port.getName()),
                    at + ".name",
                    "each port of a multi-port Service needs a unique name");
        }
    }

    private static void kafkaTopic(KafkaTopic topic, Rules rules) {
        strimziCluster(topic.getMetadata(), rules);
        var spec = topic.getSpec();
        if (spec == null) {
            rules.fail("spec", "required");
            return;
        }
        String topicName = spec.getTopicName() != null
                ? spec.getTopicName()
                : topic.getMetadata().getName();
        rules.require(
                topicName != null && topicName.matches("[a-zA-Z0-9._-]{1,249}"),
                "metadata.name",
                "not a Kafka topic name");
        rules.require(spec.getPartitions() == null || spec.getPartitions() >= 1, "spec.partitions", "must be >= 1");
        rules.require(spec.getReplicas() == null || spec.getReplicas() >= 1, "spec.replicas", "must be >= 1");
        if (spec.getConfig() != null) {
            spec.getConfig()
                    .keySet()
                    .forEach(key -> rules.require(
                            TOPIC_CONFIGS.contains(key), "spec.config." + key, "not a Kafka topic configuration"));
        }
    }

    private static void strimziCluster(ObjectMeta metadata, Rules rules) {
        boolean labelled = metadata.getLabels() != null && metadata.getLabels().containsKey("strimzi.io/cluster");
        rules.require(
                labelled, "metadata.labels", "needs strimzi.io/cluster: the Strimzi operator ignores it otherwise");
    }

    private static void scaledObject(ScaledObject scaledObject, Rules rules) {
        ScaledObject.Spec spec = scaledObject.spec();
        if (spec == null
                || spec.scaleTargetRef() == null
                || spec.scaleTargetRef().name() == null) {
            rules.fail("spec.scaleTargetRef.name", "required");
            return;
        }
        scaling(spec.minReplicaCount(), spec.maxReplicaCount(), spec.triggers(), rules);
    }

    /**
     * A ScaledJob: a Job template whose pod is checked as a Deployment's is, that runs once and ends
     * (restartPolicy Never or OnFailure, as the Job API requires), and triggers as a ScaledObject's.
     */
    private static void scaledJob(ScaledJob scaledJob, Rules rules) {
        ScaledJob.Spec spec = scaledJob.spec();
        if (spec == null || spec.jobTargetRef() == null || spec.jobTargetRef().getTemplate() == null) {
            rules.fail("spec.jobTargetRef.template", "required");
            return;
        }
        var template = spec.jobTargetRef().getTemplate();
        PodSpecRules.check(template.getSpec(), "spec.jobTargetRef.template.spec", rules);
        String restart = template.getSpec() == null ? null : template.getSpec().getRestartPolicy();
        rules.require(
                "Never".equals(restart) || "OnFailure".equals(restart),
                "spec.jobTargetRef.template.spec.restartPolicy",
                "must be Never or OnFailure for a Job, is " + restart);
        scaling(spec.minReplicaCount(), spec.maxReplicaCount(), spec.triggers(), rules);
    }

    /**
     * What a ScaledObject and a ScaledJob share: KEDA's replica bounds (defaults 0 and 100), at least one
     * trigger, and each kafka trigger's metadata.
     */
    private static void scaling(
            Integer minReplicaCount, Integer maxReplicaCount, List<ScaledObject.Trigger> triggers, Rules rules) {
        int min = minReplicaCount == null ? 0 : minReplicaCount;
        int max = maxReplicaCount == null ? 100 : maxReplicaCount;
        rules.require(min <= max, "spec.minReplicaCount", "greater than maxReplicaCount " + max);
        if (isEmpty(triggers)) {
            rules.fail("spec.triggers", "at least one trigger is required");
            return;
        }
        for (ScaledObject.Trigger trigger : triggers) {
            if ("kafka".equals(trigger.type())) {
                kafkaTrigger(trigger.metadata() == null ? Map.of() : trigger.metadata(), rules);
            }
        }
    }

    private static void kafkaTrigger(Map<String, String> metadata, Rules rules) {
        String at = "spec.triggers[kafka].metadata";
        metadata.keySet()
                .forEach(key -> rules.require(
                        KAFKA_TRIGGER_KEYS.contains(key), at + "." + key, "not a kafka scaler parameter"));
        for (String required : List.of("bootstrapServers", "consumerGroup")) {
            boolean given = metadata.containsKey(required) || metadata.containsKey(required + "FromEnv");
            rules.require(given, at + "." + required, "required");
        }
        String lag = metadata.getOrDefault("lagThreshold", "10");
        rules.require(lag.matches("[1-9][0-9]*"), at + ".lagThreshold", "must be a positive integer, is " + lag);
        boolean limit = "true".equals(metadata.get("limitToPartitionsWithLag"));
        rules.require(!limit || metadata.containsKey("topic"), at + ".topic", "required by limitToPartitionsWithLag");
        rules.require(
                !limit || !"true".equals(metadata.get("allowIdleConsumers")),
                at + ".allowIdleConsumers",
                "cannot be true together with limitToPartitionsWithLag");
    }

    private static boolean isEmpty(List<?> list) {
        return list == null || list.isEmpty();
    }

    private static String constant(Field field) {
        try {
            return (String) field.get(null);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException("TopicConfig." + field.getName() + " is public", e);
        }
    }

    /** Collects problems for one object. */
    record Rules(String object, List<ManifestProblem> problems) {
        void require(boolean condition, String path, String message) {
            if (!condition) {
                fail(path, message);
            }
        }

        void fail(String path, String message) {
            problems.add(new ManifestProblem(object, path, message));
        }
    }
}
