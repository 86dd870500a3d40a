package dev.finetune.deploy.validation;

import io.fabric8.kubernetes.api.model.ObjectMeta;
import java.util.List;

/**
 * KEDA's {@code keda.sh/v1alpha1} TriggerAuthentication, the parts these manifests use (Secrets,
 * ConfigMaps and the pod's environment as parameter sources), as in KEDA's {@code
 * apis/keda/v1alpha1/triggerauthentication_types.go}.
 */
public record TriggerAuthentication(String apiVersion, String kind, ObjectMeta metadata, Spec spec) {

    public record Spec(
            List<SecretTargetRef> secretTargetRef, List<ConfigMapTargetRef> configMapTargetRef, List<EnvRef> env) {}

    /** A scaler parameter read from a key of a Secret of the ScaledJob's or ScaledObject's namespace. */
    public record SecretTargetRef(String parameter, String name, String key) {}

    public record ConfigMapTargetRef(String parameter, String name, String key) {}

    public record EnvRef(String parameter, String name, String containerName) {}
}
