package dev.finetune.deploy.validation;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import java.math.BigDecimal;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Stream;

/**
 * A pod template: named, pinned containers with CPU and memory requests and limits (requests within
 * limits), liveness and readiness probes on ports the container declares, well-formed env and volume
 * mounts of declared volumes.
 */
final class PodSpecRules {
    private PodSpecRules() {}

    static void check(PodSpec pod, String path, ObjectRules.Rules rules) {
        if (pod == null || pod.getContainers() == null || pod.getContainers().isEmpty()) {
            rules.fail(path + ".containers", "at least one container is required");
            return;
        }
        Set<String> volumes = new HashSet<>();
        for (Volume volume : pod.getVolumes() == null ? List.<Volume>of() : pod.getVolumes()) {
            String at = path + ".volumes[" + volume.getName() + "]";
            rules.require(Names.isLabel(volume.getName()), at + ".name", "not a DNS label");
            rules.require(volumes.add(volume.getName()), at, "volume declared twice");
        }
        Set<String> containerNames = new HashSet<>();
        for (Container c : pod.getContainers()) {
            String at = path + ".containers[" + (c.getName() == null ? "?" : c.getName()) + "]";
            rules.require(Names.isLabel(c.getName()), at + ".name", "required, a DNS label");
            rules.require(c.getName() == null || containerNames.add(c.getName()), at, "container name used twice");
            image(c.getImage(), at + ".image", rules);
            Set<String> portNames = new HashSet<>();
            Set<Integer> portNumbers = new HashSet<>();
            for (ContainerPort port : c.getPorts() == null ? List.<ContainerPort>of() : c.getPorts()) {
                Integer number = port.getContainerPort();
                rules.require(number != null && number > 0 && number < 65536, at + ".ports.containerPort", "1-65535");
                portNumbers.add(number);
                if (port.getName() != null) {
                    rules.require(Names.isPortName(port.getName()), at + ".ports." + port.getName(), "not a port name");
                    rules.require(portNames.add(port.getName()), at + ".ports." + port.getName(), "used twice");
                }
            }
            resources(c.getResources(), at + ".resources", rules);
            probe(c.getLivenessProbe(), at + ".livenessProbe", portNames, portNumbers, rules);
            probe(c.getReadinessProbe(), at + ".readinessProbe", portNames, portNumbers, rules);
            if (c.getStartupProbe() != null) {
                probe(c.getStartupProbe(), at + ".startupProbe", portNames, portNumbers, rules);
            }
            env(c.getEnv(), at + ".env", rules);
            for (VolumeMount mount : c.getVolumeMounts() == null ? List.<VolumeMount>of() : c.getVolumeMounts()) {
                rules.require(
                        volumes.contains(mount.getName()),
                        at + ".volumeMounts[" + mount.getMountPath() + "]",
                        "mounts volume " + mount.getName() + ", which the pod does not declare");
            }
        }
    }

    /** Pinned: a tag other than latest, or a digest. */
    private static void image(String image, String at, ObjectRules.Rules rules) {
        if (image == null || image.isBlank()) {
            rules.fail(at, "required");
            return;
        }
        String lastPart = image.substring(image.lastIndexOf('/') + 1);
        boolean pinned = image.contains("@") || lastPart.contains(":") && !lastPart.endsWith(":latest");
        rules.require(pinned, at, image + " is not pinned to a tag or digest");
    }

    private static void resources(ResourceRequirements resources, String at, ObjectRules.Rules rules) {
        Map<String, Quantity> requests = resources == null ? null : resources.getRequests();
        Map<String, Quantity> limits = resources == null ? null : resources.getLimits();
        for (String resource : List.of("cpu", "memory")) {
            rules.require(requests != null && requests.containsKey(resource), at + ".requests." + resource, "required");
            rules.require(limits != null && limits.containsKey(resource), at + ".limits." + resource, "required");
        }
        Map<String, Quantity> noRequests = Map.of();
        Map<String, Quantity> noLimits = Map.of();
        Map<String, Quantity> req = Objects.requireNonNullElse(requests, noRequests);
        Map<String, Quantity> lim = Objects.requireNonNullElse(limits, noLimits);
        Stream.concat(req.keySet().stream(), lim.keySet().stream()).distinct().forEach(name -> {
            BigDecimal request = amount(req.get(name), at + ".requests." + name, rules);
            BigDecimal limit = amount(lim.get(name), at + ".limits." + name, rules);
            boolean extended = name.contains("/");
            if (extended) {
                rules.require(limit != null, at + ".limits." + name, "extended resources must have a limit");
                rules.require(
                        request == null || limit == null || request.compareTo(limit) == 0,
                        at + ".requests." + name,
                        "must equal the limit for an extended resource");
            } else if (request != null && limit != null) {
                rules.require(
                        request.compareTo(limit) <= 0, at + ".requests." + name, "exceeds the limit " + lim.get(name));
            }
        });
    }

    private static BigDecimal amount(Quantity quantity, String at, ObjectRules.Rules rules) {
        if (quantity == null) {
            return null;
        }
        try {
            return Quantity.getAmountInBytes(quantity);
        } catch (RuntimeException e) {
            rules.fail(at, "not a quantity: " + quantity);
            return null;
        }
    }

    private static void probe(
            Probe probe, String at, Set<String> portNames, Set<Integer> portNumbers, ObjectRules.Rules rules) {
        if (probe == null) {
            rules.fail(at, "required");
            return;
        }
        IntOrString port = null;
        if (probe.getHttpGet() != null) {
            port = probe.getHttpGet().getPort();
            at += ".httpGet.port";
        } else if (probe.getTcpSocket() != null) {
            port = probe.getTcpSocket().getPort();
            at += ".tcpSocket.port";
        } else if (probe.getGrpc() != null) {
            port = new IntOrString(probe.getGrpc().getPort());
            at += ".grpc.port";
        }
        if (port == null) {
            rules.require(probe.getExec() != null, at, "needs httpGet, tcpSocket, grpc or exec with a port");
            return;
        }
        boolean declared = port.getStrVal() != null
                ? portNames.contains(port.getStrVal())
                : portNumbers.contains(port.getIntVal());
        rules.require(
                declared,
                at,
                "port " + (port.getStrVal() != null ? port.getStrVal() : port.getIntVal())
                        + " is not a port of this container " + (portNames.isEmpty() ? portNumbers : portNames));
    }

    private static void env(List<EnvVar> env, String at, ObjectRules.Rules rules) {
        Set<String> names = new HashSet<>();
        for (EnvVar variable : env == null ? List.<EnvVar>of() : env) {
            String here = at + "[" + variable.getName() + "]";
            rules.require(Names.isEnvName(variable.getName()), here + ".name", "not a valid variable name");
            rules.require(names.add(variable.getName()), here, "set twice");
            rules.require(
                    variable.getValue() == null || variable.getValueFrom() == null,
                    here,
                    "has both value and valueFrom");
            if (variable.getValueFrom() != null) {
                var from = variable.getValueFrom();
                long sources = Stream.of(
                                from.getConfigMapKeyRef(),
                                from.getSecretKeyRef(),
                                from.getFieldRef(),
                                from.getResourceFieldRef())
                        .filter(Objects::nonNull)
                        .count();
                rules.require(sources == 1, here + ".valueFrom", "needs exactly one source");
            }
        }
    }
}
