package dev.finetune.deploy.validation;

import dev.finetune.deploy.render.Resource;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * No training job runs in a pod that a scale-in could delete. A container of the training-service
 * image trains unless its {@code PIPELINE_TRAINING_ROLE} is {@code api} (unset means {@code all}, which
 * trains). Such a container must never be in a Deployment: whatever lowers its replica count (a KEDA
 * ScaledObject, an HPA, an edit) deletes pods the ReplicaSet picks, busy or not, and a rollout replaces
 * them. It belongs in the pod of a Job (a KEDA ScaledJob's {@code jobTargetRef}), which completes and
 * is never scaled in; that pod must run one job and exit ({@code PIPELINE_TRAINING_WORKER_ONE_JOB}
 * true, else its Job never completes and holds its GPU) and not restart in place ({@code restartPolicy:
 * Never}: a replacement pod, with a new worker name, resumes the job as any other worker would).
 */
public final class TrainingWorkloads {
    /** The image's repository name, whatever registry an overlay points it at. */
    static final String IMAGE = "training-service";

    static final String ROLE = "PIPELINE_TRAINING_ROLE";
    static final String ONE_JOB = "PIPELINE_TRAINING_WORKER_ONE_JOB";

    private TrainingWorkloads() {}

    public static List<ManifestProblem> check(ManifestValidator.Validation validation) {
        List<ManifestProblem> problems = new ArrayList<>();
        for (Map.Entry<Resource, Object> e : validation.typed().entrySet()) {
            String where = e.getKey().describe();
            if (e.getValue() instanceof Deployment deployment
                    && deployment.getSpec() != null
                    && deployment.getSpec().getTemplate() != null) {
                for (Container c : trainers(deployment.getSpec().getTemplate().getSpec())) {
                    problems.add(new ManifestProblem(
                            where,
                            "spec.template.spec.containers[" + c.getName() + "].env[" + ROLE + "]",
                            "trains (role " + role(c).orElse("all, by default")
                                    + ") in a Deployment: a scale-in or rollout deletes a pod that is running a"
                                    + " job; run training workers as the Job pods of a KEDA ScaledJob, and only"
                                    + " role api in a Deployment"));
                }
            } else if (e.getValue() instanceof ScaledJob scaledJob
                    && scaledJob.spec() != null
                    && scaledJob.spec().jobTargetRef() != null
                    && scaledJob.spec().jobTargetRef().getTemplate() != null) {
                PodSpec pod = scaledJob.spec().jobTargetRef().getTemplate().getSpec();
                String at = "spec.jobTargetRef.template.spec";
                List<Container> trainers = trainers(pod);
                if (!trainers.isEmpty() && !"Never".equals(pod.getRestartPolicy())) {
                    problems.add(new ManifestProblem(
                            where,
                            at + ".restartPolicy",
                            "a training worker's Job pod is replaced, not restarted in place: Never, is "
                                    + pod.getRestartPolicy()));
                }
                for (Container c : trainers) {
                    if (!"true".equals(literal(c, ONE_JOB).orElse(null))) {
                        problems.add(new ManifestProblem(
                                where,
                                at + ".containers[" + c.getName() + "].env[" + ONE_JOB + "]",
                                "must be \"true\": a worker that does not exit after its job never lets its Job"
                                        + " complete"));
                    }
                }
            }
        }
        return problems;
    }

    /** The containers of the training-service image whose role trains. */
    private static List<Container> trainers(PodSpec pod) {
        if (pod == null || pod.getContainers() == null) {
            return List.of();
        }
        return pod.getContainers().stream()
                .filter(c -> isTrainingImage(c.getImage()))
                .filter(c -> !"api".equals(role(c).orElse("all")))
                .toList();
    }

    static boolean isTrainingImage(String image) {
        if (image == null) {
            return false;
        }
        String name = image.replaceAll("[@:][^/]*$", "");
        return name.substring(name.lastIndexOf('/') + 1).equals(IMAGE);
    }

    private static Optional<String> role(Container c) {
        return literal(c, ROLE).map(String::trim);
    }

    private static Optional<String> literal(Container c, String name) {
        List<EnvVar> env = c.getEnv() == null ? List.of() : c.getEnv();
        return env.stream()
                .filter(v -> v.getName().equals(name))
                .findFirst()
                .map(v -> v.getValue() == null ? "(not a literal value)" : v.getValue());
    }
}
