package dev.finetune.deploy.validation;

import dev.finetune.deploy.render.Resource;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.strimzi.api.kafka.model.kafka.Kafka;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Stream;

/**
 * What objects say about each other: a Service selects the pods of some Deployment and targets a
 * port they declare; every ConfigMap, Secret and ServiceAccount a pod uses exists (Secrets may
 * instead be documented as created outside the manifests, with the key); a ScaledObject scales an
 * existing Deployment that leaves its replica count to KEDA; a ServiceMonitor selects Services that
 * have the port it scrapes; a PodDisruptionBudget and a NetworkPolicy select pods that exist (and the
 * budget leaves a drain possible); Strimzi objects name a Kafka cluster that is deployed alongside, when one is.
 */
public final class CrossReferences {
    private final ManifestValidator.Validation validation;
    private final ExternalSecrets external;
    private final List<ManifestProblem> problems = new ArrayList<>();

    private CrossReferences(ManifestValidator.Validation validation, ExternalSecrets external) {
        this.validation = validation;
        this.external = external;
    }

    public static List<ManifestProblem> check(ManifestValidator.Validation validation, ExternalSecrets external) {
        CrossReferences refs = new CrossReferences(validation, external);
        validation.typed().forEach(refs::check);
        return refs.problems;
    }

    private void check(Resource resource, Object object) {
        String where = resource.describe();
        String namespace = resource.namespace();
        if (object instanceof Service service) {
            service(service, namespace, where);
        } else if (object instanceof Deployment deployment) {
            pod(deployment.getSpec().getTemplate().getSpec(), namespace, where, "spec.template.spec");
        } else if (object instanceof ScaledObject scaledObject) {
            String target = scaledObject.spec().scaleTargetRef().name();
            Deployment deployment = find(Deployment.class, namespace, target);
            if (deployment == null) {
                fail(where, "spec.scaleTargetRef.name", "no Deployment " + target);
            } else if (deployment.getSpec().getReplicas() != null) {
                fail(
                        where,
                        "spec.scaleTargetRef",
                        "Deployment " + target + " sets spec.replicas: every kubectl apply would undo KEDA's scaling");
            }
            authentication(scaledObject.spec().triggers(), namespace, where);
        } else if (object instanceof ScaledJob scaledJob && scaledJob.spec().jobTargetRef() != null) {
            pod(
                    scaledJob.spec().jobTargetRef().getTemplate().getSpec(),
                    namespace,
                    where,
                    "spec.jobTargetRef.template.spec");
            authentication(scaledJob.spec().triggers(), namespace, where);
        } else if (object instanceof TriggerAuthentication authentication && authentication.spec() != null) {
            var refs = authentication.spec().secretTargetRef();
            for (TriggerAuthentication.SecretTargetRef ref :
                    refs == null ? List.<TriggerAuthentication.SecretTargetRef>of() : refs) {
                secret(ref.name(), ref.key(), null, namespace, where, "spec.secretTargetRef[" + ref.parameter() + "]");
            }
        } else if (object instanceof ServiceMonitor serviceMonitor) {
            serviceMonitor(serviceMonitor, namespace, where);
        } else if (object instanceof PodDisruptionBudget budget) {
            disruptionBudget(budget, namespace, where);
        } else if (object instanceof NetworkPolicy policy) {
            networkPolicy(policy, namespace, where);
        } else if (resource.group().equals("kafka.strimzi.io")
                && !resource.kind().equals("Kafka")) {
            List<Kafka> clusters = validation.all(Kafka.class);
            String cluster = resource.body()
                    .path("metadata")
                    .path("labels")
                    .path("strimzi.io/cluster")
                    .asText();
            boolean deployed =
                    clusters.stream().anyMatch(k -> k.getMetadata().getName().equals(cluster));
            if (!clusters.isEmpty() && !deployed) {
                fail(where, "metadata.labels.strimzi.io/cluster", "no Kafka cluster " + cluster + " is deployed");
            }
        }
    }

    private void service(Service service, String namespace, String where) {
        Map<String, String> selector = service.getSpec().getSelector();
        if (selector == null || selector.isEmpty()) {
            return;
        }
        List<PodSpec> pods = new ArrayList<>();
        for (Map.Entry<Resource, Object> e : validation.typed().entrySet()) {
            if (e.getValue() instanceof Deployment d && e.getKey().namespace().equals(namespace)) {
                Map<String, String> labels =
                        d.getSpec().getTemplate().getMetadata().getLabels();
                if (labels != null && labels.entrySet().containsAll(selector.entrySet())) {
                    pods.add(d.getSpec().getTemplate().getSpec());
                }
            }
        }
        if (pods.isEmpty()) {
            fail(where, "spec.selector", "selects no pods of any Deployment: " + selector);
            return;
        }
        for (ServicePort port : service.getSpec().getPorts()) {
            IntOrString target = port.getTargetPort() != null ? port.getTargetPort() : new IntOrString(port.getPort());
            boolean served = pods.stream()
                    .flatMap(pod -> pod.getContainers().stream())
                    .flatMap(c -> c.getPorts() == null ? Stream.empty() : c.getPorts().stream())
                    .anyMatch(p -> matches(p, target));
            if (!served) {
                fail(
                        where,
                        "spec.ports[" + port.getName() + "].targetPort",
                        "no selected container has port "
                                + (target.getStrVal() != null ? target.getStrVal() : target.getIntVal()));
            }
        }
    }

    /**
     * A PodDisruptionBudget selects the pods of a Deployment, and keeps a drain possible: a budget with
     * minAvailable at or above the replicas (or maxUnavailable 0) blocks every eviction for ever.
     */
    private void disruptionBudget(PodDisruptionBudget budget, String namespace, String where) {
        List<Deployment> selected = podsSelectedBy(budget.getSpec().getSelector(), namespace);
        if (selected.isEmpty()) {
            fail(where, "spec.selector", "selects no pods of any Deployment");
            return;
        }
        IntOrString maxUnavailable = budget.getSpec().getMaxUnavailable();
        if (budget.getSpec().getMinAvailable() != null) {
            fail(
                    where,
                    "spec.minAvailable",
                    "use maxUnavailable: with minAvailable at the replica count (1 in the dev"
                            + " overlay) no pod could ever be evicted and every node drain would hang");
        } else if (maxUnavailable == null || Integer.valueOf(0).equals(maxUnavailable.getIntVal())) {
            fail(where, "spec.maxUnavailable", "must allow at least one pod to be evicted, got " + maxUnavailable);
        }
    }

    /** A NetworkPolicy selects the pods of at least one Deployment: one that selects none protects nothing. */
    private void networkPolicy(NetworkPolicy policy, String namespace, String where) {
        if (podsSelectedBy(policy.getSpec().getPodSelector(), namespace).isEmpty()) {
            fail(where, "spec.podSelector", "selects no pods of any Deployment");
        }
    }

    private List<Deployment> podsSelectedBy(LabelSelector selector, String namespace) {
        List<Deployment> selected = new ArrayList<>();
        if (selector == null) {
            return selected;
        }
        for (Map.Entry<Resource, Object> e : validation.typed().entrySet()) {
            if (e.getValue() instanceof Deployment d
                    && e.getKey().namespace().equals(namespace)
                    && LabelSelectors.matches(
                            selector, d.getSpec().getTemplate().getMetadata().getLabels())) {
                selected.add(d);
            }
        }
        return selected;
    }

    /**
     * A ServiceMonitor of its own namespace selects at least one Service, and every Service it selects
     * has the named port of each endpoint: Prometheus silently skips a Service that lacks it.
     */
    private void serviceMonitor(ServiceMonitor serviceMonitor, String namespace, String where) {
        ServiceMonitor.Spec spec = serviceMonitor.spec();
        if (spec == null || spec.selector() == null || spec.endpoints() == null || spec.namespaceSelector() != null) {
            return; // ObjectRules reports what is missing; other namespaces are not in these manifests
        }
        List<Service> selected = new ArrayList<>();
        for (Map.Entry<Resource, Object> e : validation.typed().entrySet()) {
            if (e.getValue() instanceof Service s
                    && e.getKey().namespace().equals(namespace)
                    && LabelSelectors.matches(spec.selector(), s.getMetadata().getLabels())) {
                selected.add(s);
            }
        }
        if (selected.isEmpty()) {
            fail(where, "spec.selector", "selects no Service");
            return;
        }
        for (ServiceMonitor.Endpoint endpoint : spec.endpoints()) {
            for (Service service : selected) {
                boolean named = service.getSpec().getPorts().stream()
                        .anyMatch(p -> Objects.equals(p.getName(), endpoint.port()));
                if (!named) {
                    fail(
                            where,
                            "spec.endpoints[" + endpoint.port() + "].port",
                            "Service " + service.getMetadata().getName() + " has no port named " + endpoint.port());
                }
            }
        }
    }

    private static boolean matches(ContainerPort port, IntOrString target) {
        return target.getStrVal() != null
                ? target.getStrVal().equals(port.getName())
                : Objects.equals(target.getIntVal(), port.getContainerPort());
    }

    /** A trigger's authenticationRef names a TriggerAuthentication of the namespace. */
    private void authentication(List<ScaledObject.Trigger> triggers, String namespace, String where) {
        for (ScaledObject.Trigger trigger : triggers == null ? List.<ScaledObject.Trigger>of() : triggers) {
            ScaledObject.AuthenticationRef ref = trigger.authenticationRef();
            boolean cluster = ref != null && "ClusterTriggerAuthentication".equals(ref.kind());
            if (ref != null && !cluster && find(TriggerAuthentication.class, namespace, ref.name()) == null) {
                fail(
                        where,
                        "spec.triggers[" + trigger.type() + "].authenticationRef.name",
                        "no TriggerAuthentication " + ref.name());
            }
        }
    }

    private void pod(PodSpec pod, String namespace, String where, String path) {
        String account = pod.getServiceAccountName();
        if (account != null && !account.equals("default") && find(ServiceAccount.class, namespace, account) == null) {
            fail(where, path + ".serviceAccountName", "no ServiceAccount " + account);
        }
        for (Volume volume : pod.getVolumes() == null ? List.<Volume>of() : pod.getVolumes()) {
            String at = path + ".volumes[" + volume.getName() + "]";
            if (volume.getConfigMap() != null) {
                configMap(
                        volume.getConfigMap().getName(),
                        null,
                        volume.getConfigMap().getOptional(),
                        namespace,
                        where,
                        at);
            }
            if (volume.getSecret() != null) {
                secret(
                        volume.getSecret().getSecretName(),
                        null,
                        volume.getSecret().getOptional(),
                        namespace,
                        where,
                        at);
            }
        }
        for (Container c : pod.getContainers()) {
            String at = path + ".containers[" + c.getName() + "]";
            for (EnvFromSource from : c.getEnvFrom() == null ? List.<EnvFromSource>of() : c.getEnvFrom()) {
                if (from.getConfigMapRef() != null) {
                    var ref = from.getConfigMapRef();
                    configMap(ref.getName(), null, ref.getOptional(), namespace, where, at + ".envFrom");
                }
                if (from.getSecretRef() != null) {
                    var ref = from.getSecretRef();
                    secret(ref.getName(), null, ref.getOptional(), namespace, where, at + ".envFrom");
                }
            }
            for (EnvVar variable : c.getEnv() == null ? List.<EnvVar>of() : c.getEnv()) {
                var from = variable.getValueFrom();
                String here = at + ".env[" + variable.getName() + "].valueFrom";
                if (from != null && from.getConfigMapKeyRef() != null) {
                    var ref = from.getConfigMapKeyRef();
                    configMap(ref.getName(), ref.getKey(), ref.getOptional(), namespace, where, here);
                }
                if (from != null && from.getSecretKeyRef() != null) {
                    var ref = from.getSecretKeyRef();
                    secret(ref.getName(), ref.getKey(), ref.getOptional(), namespace, where, here);
                }
            }
        }
    }

    private void configMap(String name, String key, Boolean optional, String namespace, String where, String at) {
        ConfigMap configMap = find(ConfigMap.class, namespace, name);
        if (Boolean.TRUE.equals(optional)) {
            return;
        }
        if (configMap == null) {
            fail(where, at, "no ConfigMap " + name);
        } else if (key != null
                && (configMap.getData() == null || !configMap.getData().containsKey(key))) {
            fail(where, at, "ConfigMap " + name + " has no key " + key);
        }
    }

    private void secret(String name, String key, Boolean optional, String namespace, String where, String at) {
        if (Boolean.TRUE.equals(optional) || find(Secret.class, namespace, name) != null) {
            return;
        }
        if (!external.has(name, key)) {
            fail(
                    where,
                    at,
                    "Secret " + name + (key == null ? "" : " with key " + key)
                            + " is neither in the manifests nor documented as created outside them "
                            + external.keysBySecret());
        }
    }

    private <T> T find(Class<T> type, String namespace, String name) {
        for (Map.Entry<Resource, Object> e : validation.typed().entrySet()) {
            Resource r = e.getKey();
            if (type.isInstance(e.getValue())
                    && r.namespace().equals(namespace)
                    && r.name().equals(name)) {
                return type.cast(e.getValue());
            }
        }
        return null;
    }

    private void fail(String where, String path, String message) {
        problems.add(new ManifestProblem(where, path, message));
    }
}
