package dev.finetune.registry;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;

import ai.djl.Device;
import dev.finetune.events.EvaluationStatus;
import dev.finetune.events.FineTuneMethod;
import dev.finetune.llm.checkpoint.DType;
import dev.finetune.llm.checkpoint.SafetensorsReader;
import dev.finetune.llm.checkpoint.SafetensorsWriter;
import dev.finetune.llm.lora.LoraConfig;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.peft.PeftAdapter;
import dev.finetune.localstack.LocalStackTestResource;
import dev.finetune.registry.store.RegistryKeys;
import dev.finetune.storage.ObjectStore;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The merged export is the base model with the adapter folded in: W' = W + (alpha / r) B A. */
@QuarkusTest
@WithTestResource(LocalStackTestResource.class)
class MergedExportTest {
    private static final String Q_PROJ = "model.layers.1.self_attn.q_proj.weight";
    private static final String LORA = "base_model.model.model.layers.1.self_attn.q_proj.lora_";

    @Inject
    ObjectStore store;

    @Test
    void theMergedExportEqualsBasePlusAdapter() throws Exception {
        String dataset = Pipeline.unique("merge");
        String model = Pipeline.modelOf(dataset);
        Pipeline.Trained trained = Pipeline.adapter(store, 71);
        Pipeline.register(
                store,
                Pipeline.unique("job"),
                dataset,
                71,
                trained.directory(),
                EvaluationStatus.PASSED,
                Map.of("eval_loss", 2.0));

        Path merged = exportMerged(model);
        given().post("/api/models/{m}/versions/1/merged", model).then().statusCode(200);

        assertComputesTheAdaptedLogits(merged, trained);
        try (SafetensorsReader base =
                        SafetensorsReader.open(Pipeline.base(store).resolve("model.safetensors"));
                SafetensorsReader adapter =
                        SafetensorsReader.open(trained.directory().resolve("adapter_model.safetensors"));
                SafetensorsReader result = SafetensorsReader.open(merged.resolve("model.safetensors"))) {
            float[] w = base.readFloats(Q_PROJ); // [O, I] = [64, 64]
            float[] a = adapter.readFloats(LORA + "A.weight"); // [R, I] = [4, 64]
            float[] b = adapter.readFloats(LORA + "B.weight"); // [O, R] = [64, 4]
            float[] actual = result.readFloats(Q_PROJ);
            double scaling = 8.0 / 4; // alpha / r of Pipeline.adapter
            double largestDelta = 0;
            for (int o = 0; o < 64; o++) {
                for (int i = 0; i < 64; i++) {
                    double delta = 0;
                    for (int r = 0; r < 4; r++) {
                        delta += b[o * 4 + r] * a[r * 64 + i];
                    }
                    largestDelta = Math.max(largestDelta, Math.abs(delta));
                    assertThat((double) actual[o * 64 + i])
                            .isCloseTo(w[o * 64 + i] + scaling * delta, org.assertj.core.data.Offset.offset(1e-6));
                }
            }
            assertThat(largestDelta).as("the adapter is not a no-op").isGreaterThan(1e-3);
        }
        assertThat(RegistryTopics.events(model, 2).stream()
                        .map(e -> e.value().path("action").asText()))
                .containsExactly("version_registered", "merged_model_exported");
    }

    /**
     * A DoRA adapter (PEFT's use_dora, fractional lora_alpha) registers, and its merged export folds the
     * magnitudes in: each row of W + s B A times m / ||W + s B A||.
     */
    @Test
    void aDoraAdapterRegistersAndItsMergedExportComputesItsLogits() throws Exception {
        String dataset = Pipeline.unique("dora");
        String model = Pipeline.modelOf(dataset);
        Pipeline.Trained trained = Pipeline.adapter(
                store, 73, LoraConfig.defaults().withR(4).withAlpha(12.5).withUseDora(true));
        Pipeline.register(
                store,
                Pipeline.unique("job"),
                dataset,
                73,
                trained.directory(),
                EvaluationStatus.PASSED,
                Map.of("eval_loss", 2.0));

        Path merged = exportMerged(model);

        assertComputesTheAdaptedLogits(merged, trained);
        try (CausalLm base = CausalLm.load(Pipeline.base(store), Device.cpu())) {
            float[] baseLogits = Pipeline.logits(base);
            double moved = 0;
            for (int i = 0; i < baseLogits.length; i++) {
                moved = Math.max(moved, Math.abs(baseLogits[i] - trained.logits()[i]));
            }
            assertThat(moved).as("the adapter is not a no-op").isGreaterThan(1e-3);
        }
    }

    /** Exports version 1 of {@code model} merged and downloads its files. */
    private static Path exportMerged(String model) throws Exception {
        JsonPath export = given().post("/api/models/{m}/versions/1/merged", model)
                .then()
                .statusCode(201)
                .extract()
                .jsonPath();
        assertThat(export.getMap("files").keySet()).contains("config.json", "model.safetensors", "tokenizer.json");
        Path merged = Pipeline.scratch("merged-");
        for (String name :
                export.getMap("files").keySet().stream().map(Object::toString).toList()) {
            Files.write(
                    merged.resolve(name),
                    given().get("/api/models/{m}/versions/1/files/merged/{f}", model, name)
                            .then()
                            .statusCode(200)
                            .extract()
                            .asByteArray());
        }
        return merged;
    }

    /** The merged model's logits are the adapted model's, within fp32 rounding. */
    private static void assertComputesTheAdaptedLogits(Path merged, Pipeline.Trained trained) throws Exception {
        try (CausalLm reloaded = CausalLm.load(merged, Device.cpu())) {
            // (W + s B A) x and W x + s B (A x) round differently in fp32: a few 1e-6 of the largest logit.
            double scale = 1;
            for (float v : trained.logits()) {
                scale = Math.max(scale, Math.abs(v));
            }
            float[] logits = Pipeline.logits(reloaded);
            for (int i = 0; i < logits.length; i++) {
                assertThat((double) logits[i])
                        .isCloseTo(trained.logits()[i], org.assertj.core.data.Offset.offset(1e-5 * scale));
            }
        }
    }

    /** PEFT's safe_merge: an adapter that makes a weight NaN is refused, naming it, and nothing is stored. */
    @Test
    void anAdapterThatBreaksTheWeightsIsRefusedAndLeavesNoExport() throws Exception {
        String dataset = Pipeline.unique("nanmerge");
        String model = Pipeline.modelOf(dataset);
        String job = Pipeline.unique("job");
        Pipeline.prepareDataset(store, dataset, "1");
        Pipeline.Trained trained = Pipeline.adapter(store, 72);
        Path weights = trained.directory().resolve(PeftAdapter.WEIGHTS_FILE);
        List<SafetensorsWriter.Entry> entries = new ArrayList<>();
        try (SafetensorsReader reader = SafetensorsReader.open(weights)) {
            for (String name : reader.names()) {
                float[] values = reader.readFloats(name);
                if (name.equals(LORA + "B.weight")) {
                    values[5] = Float.NaN;
                }
                entries.add(SafetensorsWriter.floats(name, reader.info(name).shape(), values, DType.F32));
            }
        }
        SafetensorsWriter.write(weights, entries, Map.of("format", "pt"));
        Pipeline.uploadCheckpoint(store, job, 72, trained.directory());
        Pipeline.checkpointCreated(
                job, 72, dataset, FineTuneMethod.LORA, UUID.randomUUID().toString());
        Pipeline.evaluationCompleted(
                job,
                72,
                EvaluationStatus.PASSED,
                Map.of("eval_loss", 2.0),
                UUID.randomUUID().toString());
        Pipeline.awaitRegistered(job);

        given().post("/api/models/{m}/versions/1/merged", model)
                .then()
                .statusCode(409)
                .body("detail", containsString("'" + Q_PROJ + "'"))
                .body("detail", containsString("safe_merge"));
        given().get("/api/models/{m}/versions/1/merged", model).then().statusCode(404);
        assertThat(store.list(RegistryKeys.version(model, 1) + RegistryKeys.MERGED_DIRECTORY))
                .isEmpty();
    }
}
