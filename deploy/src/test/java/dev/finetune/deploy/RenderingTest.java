package dev.finetune.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.finetune.deploy.render.Kustomize;
import dev.finetune.deploy.render.Resource;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The objects the checks see: the tool's rendering, each object with the files it comes from. */
class RenderingTest {
    @TempDir
    Path dir;

    @Test
    void eachObjectNamesItsFileAndThePatchesAppliedToIt() {
        List<Resource> dev = Repo.render("overlays/dev");

        assertThat(find(dev, "Deployment", "training-service").sources())
                .containsExactly("deploy/base/training-service.yaml", "deploy/overlays/dev/small-resources.yaml");
        assertThat(find(dev, "KafkaTopic", "training.jobs").sources())
                .containsExactly(
                        "deploy/base/topics/events.yaml", "deploy/components/dev-stack/single-replica-topics.yaml");
        assertThat(find(dev, "Deployment", "otel-collector").describe())
                .isEqualTo("finetune-dev/Deployment/otel-collector (from deploy/observability/otel-collector.yaml, "
                        + "patched by deploy/components/dev-stack/collector-to-jaeger.yaml)");
        assertThat(dev)
                .filteredOn(r -> r.kind().equals("ConfigMap") && r.name().matches("pipeline-settings-[a-z0-9]{10}"))
                .singleElement()
                .satisfies(
                        settings -> assertThat(settings.sources()).containsExactly("deploy/base/kustomization.yaml"));
    }

    @Test
    void kustomizationTheToolRefusesFailsWithTheToolsMessage() {
        Kustomize tool = Repo.tool();
        Fixture.write(dir.resolve("kustomization.yaml"), "resources: [d.yaml]\npatches: [{path: p.yaml}]\n");
        Fixture.write(
                dir.resolve("d.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {A: \"1\"}\n");
        Fixture.write(
                dir.resolve("p.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\ndata: {A: \"2\"}\n");

        assertThatThrownBy(() -> tool.build(dir))
                .isInstanceOf(ManifestException.class)
                .hasMessageStartingWith(tool.command() + " " + dir + " failed: ")
                .hasMessageContaining("ConfigMap.v1.[noGrp]/b");
    }

    private static Resource find(List<Resource> resources, String kind, String name) {
        return resources.stream()
                .filter(r -> r.kind().equals(kind) && r.name().equals(name))
                .findFirst()
                .orElseThrow();
    }
}
