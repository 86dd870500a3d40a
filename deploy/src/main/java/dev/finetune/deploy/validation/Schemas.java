package dev.finetune.deploy.validation;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.strimzi.api.kafka.model.kafka.Kafka;
import io.strimzi.api.kafka.model.nodepool.KafkaNodePool;
import io.strimzi.api.kafka.model.topic.KafkaTopic;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

/**
 * The typed model for every apiVersion and kind our manifests may contain. An object of any other
 * type is an error: nothing is deployed unchecked.
 */
final class Schemas {
    private static final Map<String, Class<?>> TYPES = Map.of(
            "v1/ConfigMap", ConfigMap.class,
            "v1/Secret", Secret.class,
            "v1/Service", Service.class,
            "v1/ServiceAccount", ServiceAccount.class,
            "v1/PersistentVolumeClaim", PersistentVolumeClaim.class,
            "apps/v1/Deployment", Deployment.class,
            "kafka.strimzi.io/v1beta2/Kafka", Kafka.class,
            "kafka.strimzi.io/v1beta2/KafkaNodePool", KafkaNodePool.class,
            "kafka.strimzi.io/v1beta2/KafkaTopic", KafkaTopic.class,
            "keda.sh/v1alpha1/ScaledObject", ScaledObject.class);

    private Schemas() {}

    static Optional<Class<?>> typeOf(String apiVersion, String kind) {
        return Optional.ofNullable(TYPES.get(apiVersion + "/" + kind));
    }

    static String known() {
        return String.join(", ", new TreeSet<>(TYPES.keySet()));
    }
}
