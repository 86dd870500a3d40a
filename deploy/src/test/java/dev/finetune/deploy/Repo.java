package dev.finetune.deploy;

import dev.finetune.deploy.kustomize.KustomizeRenderer;
import dev.finetune.deploy.kustomize.Resource;
import dev.finetune.deploy.validation.CrossReferences;
import dev.finetune.deploy.validation.ExternalSecrets;
import dev.finetune.deploy.validation.ManifestValidator;
import dev.finetune.deploy.validation.Problem;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.NoSuchElementException;

/** The repository the tests check, and shortcuts to render and validate its manifests. */
final class Repo {
    static final Path ROOT = findRoot();
    static final Path DEPLOY = ROOT.resolve("deploy");
    static final List<String> OVERLAYS = List.of("overlays/dev", "overlays/gpu");
    static final List<String> SERVICES =
            List.of("dataset-service", "training-service", "eval-service", "registry-service");

    private Repo() {}

    static List<Resource> render(String kustomization) {
        return new KustomizeRenderer(ROOT).render(DEPLOY.resolve(kustomization));
    }

    static ManifestValidator.Validation validate(String kustomization) {
        return new ManifestValidator().validate(render(kustomization));
    }

    /** Schema problems and cross-reference problems together. */
    static List<Problem> problems(List<Resource> resources, Path readme) {
        ManifestValidator.Validation validation = new ManifestValidator().validate(resources);
        List<Problem> problems = new ArrayList<>(validation.problems());
        problems.addAll(CrossReferences.check(validation, ExternalSecrets.documentedIn(readme)));
        return problems;
    }

    static Deployment deployment(ManifestValidator.Validation validation, String name) {
        return validation.all(Deployment.class).stream()
                .filter(d -> d.getMetadata().getName().equals(name))
                .findFirst()
                .orElseThrow(() -> new NoSuchElementException("no Deployment " + name));
    }

    static Container container(Deployment deployment) {
        return deployment.getSpec().getTemplate().getSpec().getContainers().get(0);
    }

    static EnvVar env(Container container, String name) {
        return container.getEnv().stream()
                .filter(e -> e.getName().equals(name))
                .findFirst()
                .orElseThrow(() -> new NoSuchElementException(container.getName() + " has no env " + name));
    }

    private static Path findRoot() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.isRegularFile(dir.resolve("deploy/pom.xml"))) {
            dir = dir.getParent();
        }
        if (dir == null) {
            throw new IllegalStateException("run from inside the repository: no deploy/pom.xml above "
                    + Path.of("").toAbsolutePath());
        }
        return dir;
    }
}
