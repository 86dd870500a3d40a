package dev.finetune.deploy.validation;

import io.fabric8.kubernetes.api.model.ObjectMeta;
import java.util.List;
import java.util.Map;

/**
 * KEDA's {@code keda.sh/v1alpha1} ScaledObject, field for field as in KEDA's
 * {@code apis/keda/v1alpha1/scaledobject_types.go} and {@code scaletriggers_types.go}. Read with
 * unknown properties failing, so a misspelt field is an error; status is never in a manifest.
 */
public record ScaledObject(String apiVersion, String kind, ObjectMeta metadata, Spec spec) {

    public record Spec(
            ScaleTarget scaleTargetRef,
            Integer pollingInterval,
            Integer initialCooldownPeriod,
            Integer cooldownPeriod,
            Integer idleReplicaCount,
            Integer minReplicaCount,
            Integer maxReplicaCount,
            Advanced advanced,
            List<Trigger> triggers,
            Fallback fallback) {}

    public record ScaleTarget(String name, String apiVersion, String kind, String envSourceContainerName) {}

    public record Fallback(Integer failureThreshold, Integer replicas, String behavior) {}

    public record Advanced(
            HorizontalPodAutoscalerConfig horizontalPodAutoscalerConfig,
            Boolean restoreToOriginalReplicaCount,
            ScalingModifiers scalingModifiers) {}

    public record ScalingModifiers(String formula, String target, String activationTarget, String metricType) {}

    public record HorizontalPodAutoscalerConfig(Behavior behavior, String name) {}

    /** autoscaling/v2 HorizontalPodAutoscalerBehavior. */
    public record Behavior(ScalingRules scaleUp, ScalingRules scaleDown) {}

    public record ScalingRules(Integer stabilizationWindowSeconds, String selectPolicy, List<ScalingPolicy> policies) {}

    public record ScalingPolicy(String type, Integer value, Integer periodSeconds) {}

    public record Trigger(
            String type,
            String name,
            Boolean useCachedMetrics,
            Map<String, String> metadata,
            AuthenticationRef authenticationRef,
            String metricType) {}

    public record AuthenticationRef(String name, String kind) {}
}
