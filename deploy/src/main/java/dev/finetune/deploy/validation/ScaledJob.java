package dev.finetune.deploy.validation;

import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.batch.v1.JobSpec;
import java.util.List;

/**
 * KEDA's {@code keda.sh/v1alpha1} ScaledJob, field for field as in KEDA's {@code
 * apis/keda/v1alpha1/scaledjob_types.go}: a Kubernetes Job per unit of the triggers' metric, never a
 * scaled Deployment. Read with unknown properties failing, so a misspelt field is an error.
 */
public record ScaledJob(String apiVersion, String kind, ObjectMeta metadata, Spec spec) {

    public record Spec(
            JobSpec jobTargetRef,
            Integer pollingInterval,
            Integer successfulJobsHistoryLimit,
            Integer failedJobsHistoryLimit,
            String envSourceContainerName,
            Integer minReplicaCount,
            Integer maxReplicaCount,
            Rollout rollout,
            String rolloutStrategy,
            ScalingStrategy scalingStrategy,
            List<ScaledObject.Trigger> triggers) {}

    public record Rollout(String strategy, String propagationPolicy) {}

    /** How many Jobs to start from the metric; {@code default}, {@code custom}, {@code accurate} or {@code eager}. */
    public record ScalingStrategy(
            String strategy,
            Integer customScalingQueueLengthDeduction,
            Integer customScalingRunningJobPercentage,
            List<String> pendingPodConditions,
            String multipleScalersCalculation) {}
}
