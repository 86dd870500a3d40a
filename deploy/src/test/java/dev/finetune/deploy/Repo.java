package dev.finetune.deploy;

import static org.assertj.core.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.abort;

import dev.finetune.deploy.render.Kustomize;
import dev.finetune.deploy.render.Origins;
import dev.finetune.deploy.render.Resource;
import dev.finetune.deploy.render.Snapshots;
import dev.finetune.deploy.validation.CrossReferences;
import dev.finetune.deploy.validation.ExternalSecrets;
import dev.finetune.deploy.validation.ManifestProblem;
import dev.finetune.deploy.validation.ManifestValidator;
import dev.finetune.deploy.validation.TrainingWorkloads;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/** The repository the tests check, and shortcuts to render and validate its manifests. */
final class Repo {
    static final Path ROOT = findRoot();
    static final Path DEPLOY = ROOT.resolve("deploy");
    static final List<String> OVERLAYS = List.of("overlays/dev", "overlays/gpu");
    static final List<String> SERVICES =
            List.of("dataset-service", "training-service", "eval-service", "registry-service");
    static final Snapshots SNAPSHOTS = new Snapshots(DEPLOY);

    /** kubectl or kustomize from the PATH, if there is one. */
    static final Optional<Kustomize> TOOL = Kustomize.onPath();

    private static final Map<String, String> RENDERED = new ConcurrentHashMap<>();

    private Repo() {}

    /**
     * The kustomization (a directory under deploy/) as the tool renders it now, or, where neither kubectl
     * nor kustomize is installed, as its committed rendering in deploy/rendered/ (SnapshotTest fails when
     * that is stale).
     */
    static List<Resource> render(String kustomization) {
        Path dir = DEPLOY.resolve(kustomization);
        String name = dir.getFileName().toString();
        Origins origins = Origins.of(dir, ROOT); // first: it names the file of a YAML error, kubectl does not
        String rendering = TOOL.isPresent()
                ? RENDERED.computeIfAbsent(kustomization, k -> TOOL.get().build(dir))
                : SNAPSHOTS.read(name).output();
        String renderingName = TOOL.isPresent()
                ? TOOL.get().command() + " deploy/" + kustomization
                : SNAPSHOTS.display(SNAPSHOTS.file(name));
        return origins.resources(rendering, renderingName);
    }

    /**
     * The tool, for a test that cannot run without it: the test is skipped where it is missing, except
     * on CI (CI=true), whose machines have kubectl, where a missing tool fails it.
     */
    static Kustomize tool() {
        if (TOOL.isEmpty()) {
            String missing = "neither kubectl nor kustomize is on the PATH";
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                fail(missing + ", and CI=true: CI machines have kubectl");
            }
            abort(missing + ": skipped (the other checks validate deploy/rendered/ instead)");
        }
        return TOOL.get();
    }

    static ManifestValidator.Validation validate(String kustomization) {
        return new ManifestValidator().validate(render(kustomization));
    }

    /** Schema problems and cross-reference problems together. */
    static List<ManifestProblem> problems(List<Resource> resources, Path readme) {
        ManifestValidator.Validation validation = new ManifestValidator().validate(resources);
        List<ManifestProblem> problems = new ArrayList<>(validation.problems());
        problems.addAll(CrossReferences.check(validation, ExternalSecrets.documentedIn(readme)));
        problems.addAll(TrainingWorkloads.check(validation));
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
