package dev.finetune.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

/** The images are built as documented: no Docker here, so these read the Dockerfile and poms. */
class DockerImagesTest {
    private static final Path DOCKERFILE = Repo.DEPLOY.resolve("docker/Dockerfile");

    @Test
    void serviceImageIsBuiltWithTheWrapperAndRunsAsANonRootUser() {
        List<String> instructions = instructions(ServiceConfig.read(DOCKERFILE));
        List<String> from =
                instructions.stream().filter(i -> i.startsWith("FROM ")).toList();
        String lastUser = instructions.stream()
                .filter(i -> i.startsWith("USER "))
                .reduce((a, b) -> b)
                .orElseThrow();

        assertThat(from).hasSizeGreaterThanOrEqualTo(2).anySatisfy(f -> assertThat(f)
                .endsWith(" AS build"));
        assertThat(instructions)
                .contains("ARG SERVICE")
                .anySatisfy(i -> assertThat(i)
                        .startsWith("RUN ")
                        .contains("./mvnw -B -ntp -pl \"${SERVICE}\" -am package -DskipTests"))
                .anySatisfy(i -> assertThat(i).startsWith("COPY --from=build /quarkus-app"))
                .anySatisfy(i -> assertThat(i).startsWith("ENTRYPOINT ").contains("quarkus-run.jar"));
        assertThat(lastUser).matches("USER [1-9][0-9]*(:[1-9][0-9]*)?");
        assertThat(instructions.indexOf(lastUser)).isGreaterThan(instructions.indexOf(from.get(from.size() - 1)));
    }

    /** The allocator and options llm's NativeAllocator names and docs/benchmarks.md measured. */
    @Test
    void servicesRunOnJemallocWithTheMeasuredOptions() {
        List<String> instructions = instructions(ServiceConfig.read(DOCKERFILE));
        int runtime = instructions.lastIndexOf(instructions.stream()
                .filter(i -> i.startsWith("FROM "))
                .reduce((a, b) -> b)
                .orElseThrow());
        List<String> runtimeStage = instructions.subList(runtime, instructions.size());

        assertThat(runtimeStage)
                .anySatisfy(i -> assertThat(i).startsWith("RUN apt-get update").contains(" libjemalloc2 "))
                .contains("ENV LD_PRELOAD=libjemalloc.so.2 MALLOC_CONF=oversize_threshold:0,background_thread:true");
    }

    @Test
    void buildContextLeavesOutBuildOutputAndGitHistory() {
        List<String> ignored =
                ServiceConfig.read(Repo.ROOT.resolve(".dockerignore")).lines().toList();

        assertThat(ignored).contains("**/target/", ".git/", "examples/models/");
    }

    @Test
    void cudaProfileSwapsTheCpuNativeLibraryForTheCudaBuildOfTheSamePyTorch() throws Exception {
        Document pom = DocumentBuilderFactory.newInstance()
                .newDocumentBuilder()
                .parse(Repo.ROOT.resolve("training-service/pom.xml").toFile());
        Element profile = profiles(pom).stream()
                .filter(p -> text(p, "id").equals("cuda"))
                .findFirst()
                .orElseThrow();
        List<Element> dependencies = children(child(profile, "dependencies"), "dependency");

        assertThat(text(profile, "activation")).isEmpty();
        assertThat(dependencies)
                .anySatisfy(d -> {
                    assertThat(text(d, "artifactId")).isEqualTo("llm");
                    assertThat(text(d, "exclusions")).contains("pytorch-native-cpu", "slf4j-simple");
                })
                .anySatisfy(d -> {
                    assertThat(text(d, "artifactId")).isEqualTo("pytorch-native-cu128");
                    assertThat(text(d, "version")).isEqualTo("${pytorch.native.version}");
                    assertThat(text(d, "classifier")).isEqualTo("linux-x86_64");
                });
        assertThat(children(child(pom.getDocumentElement(), "dependencies"), "dependency"))
                .noneSatisfy(d -> assertThat(text(d, "artifactId")).startsWith("pytorch-native-cu"));
    }

    @Test
    void gpuOverlayRunsTheImageTagTheDockerfileDocumentsForTheCudaBuild() {
        String cudaImage = Repo.render("overlays/gpu").stream()
                .filter(r -> r.name().equals("training-service") && r.kind().equals("Deployment"))
                .findFirst()
                .orElseThrow()
                .at("/spec/template/spec/containers/0/image")
                .asText();

        assertThat(ServiceConfig.read(DOCKERFILE))
                .contains("MAVEN_PROFILES=cuda")
                .contains("RUNTIME_BASE=nvidia/cuda:")
                .contains("-t " + cudaImage + " .");
    }

    /** Instructions with continuation lines joined and comments dropped. */
    private static List<String> instructions(String dockerfile) {
        List<String> result = new ArrayList<>();
        for (String instruction : dockerfile.replaceAll("\\\\\\n", " ").split("\n")) {
            String trimmed = instruction.trim().replaceAll("\\s+", " ");
            if (!trimmed.isEmpty() && !trimmed.startsWith("#")) {
                result.add(trimmed);
            }
        }
        return result;
    }

    private static List<Element> profiles(Document pom) {
        return children(child(pom.getDocumentElement(), "profiles"), "profile");
    }

    private static Element child(Element parent, String name) {
        List<Element> found = children(parent, name);
        return found.isEmpty() ? null : found.get(0);
    }

    private static List<Element> children(Element parent, String name) {
        List<Element> result = new ArrayList<>();
        if (parent != null) {
            NodeList nodes = parent.getChildNodes();
            for (int i = 0; i < nodes.getLength(); i++) {
                Node node = nodes.item(i);
                if (node instanceof Element e && e.getTagName().equals(name)) {
                    result.add(e);
                }
            }
        }
        return result;
    }

    private static String text(Element parent, String name) {
        Element element = child(parent, name);
        return element == null ? "" : element.getTextContent().trim();
    }
}
