package dev.finetune.training;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Device;
import dev.finetune.llm.lora.Adapters;
import dev.finetune.llm.lora.LoraConfig;
import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.peft.PeftAdapter;
import dev.finetune.localstack.LocalStackTestResource;
import dev.finetune.service.testing.EventTopics;
import dev.finetune.storage.Digests;
import dev.finetune.storage.ObjectInfo;
import dev.finetune.storage.ObjectKeys;
import dev.finetune.storage.ObjectStore;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A job whose init_adapter names a registered version (registry:&lt;model&gt;@&lt;version or alias&gt;)
 * continues training from that adapter: the alias is pinned to its version when the job is accepted,
 * the adapter's config decides the LoRA settings, and the job's checkpoints name the version as their
 * parent, which is what the registry records as the new version's lineage.
 */
@QuarkusTest
@WithTestResource(LocalStackTestResource.class)
class ContinuedTrainingTest {
    private static final String BASE = "tiny-qwen3";

    @Inject
    ObjectStore store;

    private String model;

    @BeforeEach
    void inputs() throws Exception {
        Fixtures.baseModel(store, BASE);
        Fixtures.sftDataset(store, "qa");
        model = "continued-" + UUID.randomUUID().toString().substring(0, 8);
        registerAdapter(model, 1, LoraConfig.defaults().withR(4).withAlpha(8));
        alias(model, "production", 1);
    }

    @Test
    void aJobContinuingARegisteredAliasRunsPinnedToItsVersionAndNamesItAsParent() throws Exception {
        String id = JobLifecycleTest.create(Fixtures.loraSftJob(
                BASE,
                "qa",
                Map.of(
                        "init_adapter",
                        "registry:" + model + "@production",
                        "max_steps",
                        2,
                        "per_device_train_batch_size",
                        4,
                        "max_seq_length",
                        48)));
        alias(model, "production", 7); // the alias moves after the job was accepted: the job keeps version 1

        JsonPath job = JobLifecycleTest.awaitState(id, "succeeded");
        assertThat(job.getString("hyperparameters.init_adapter")).isEqualTo("registry:" + model + "@1");
        assertThat(job.getInt("hyperparameters.lora_r"))
                .as("the adapter's rank")
                .isEqualTo(4);
        assertThat(job.getDouble("hyperparameters.lora_alpha")).isEqualTo(8.0);
        String result = new String(
                store.getBytes(job.getString("resultPrefix") + "adapter_config.json"), StandardCharsets.UTF_8);
        assertThat(result).contains("\"r\": 4");

        List<EventTopics.Received> published = EventTopics.read(
                "checkpoints.created",
                v -> v.path("jobId").asText().equals(id) && v.path("isFinal").asBoolean(),
                1,
                Duration.ofSeconds(20));
        assertThat(published.get(0).value().path("parent").path("model").asText())
                .isEqualTo(model);
        assertThat(published.get(0).value().path("parent").path("version").asLong())
                .isEqualTo(1);
    }

    @Test
    void anUnknownVersionAliasOrModelOrAConflictingSettingIsRefusedNamingWhatIsKnown() {
        JobLifecycleTest.reject(
                job("registry:" + model + "@staging"),
                "hyperparameters.init_adapter registry:" + model + "@staging: " + model
                        + " has no alias staging; its aliases: production; its versions: 1");
        JobLifecycleTest.reject(job("registry:" + model + "@3"), model + " has no complete version 3; its versions: 1");
        JobLifecycleTest.reject(job("registry:nobody-here@1"), "no registered model nobody-here; registered: ");
        JobLifecycleTest.reject(
                job("/tmp/adapter"),
                "hyperparameters.init_adapter must be registry:<model>@<version or alias> in a job");
        Map<String, Object> conflicting =
                new HashMap<>(Map.of("init_adapter", "registry:" + model + "@1", "lora_r", 16));
        JobLifecycleTest.reject(
                Fixtures.loraSftJob(BASE, "qa", conflicting),
                "hyperparameters.lora_r 16 disagrees with init_adapter's registry/" + model
                        + "/1/adapter_config.json, whose r is 4");
    }

    @Test
    void anAdapterWhoseBytesAreNotTheRecordedOnesIsRefused() throws Exception {
        store.putBytes(
                ObjectKeys.registry(model, 1, "adapter_config.json"),
                "{\"peft_type\": \"LORA\"}".getBytes(StandardCharsets.UTF_8),
                "application/json");
        JobLifecycleTest.reject(
                job("registry:" + model + "@1"),
                "registry/" + model + "/1/adapter_config.json: does not match the version's manifest");
    }

    /** The weights are checked when the worker downloads them: a job over changed bytes fails, naming them. */
    @Test
    void aJobWhoseAdapterWeightsAreNotTheRecordedOnesFailsWithoutRetrying() {
        store.putBytes(
                ObjectKeys.registry(model, 1, "adapter_model.safetensors"),
                new byte[] {1, 2, 3},
                "application/octet-stream");
        String id = JobLifecycleTest.create(job("registry:" + model + "@1"));
        JsonPath failed = JobLifecycleTest.awaitState(id, "failed");
        assertThat(failed.getString("failureReason"))
                .contains("registry/" + model + "/1/adapter_model.safetensors: does not match the version's manifest:"
                        + " 3 bytes with SHA-256 ");
    }

    private static Map<String, Object> job(String initAdapter) {
        return Fixtures.loraSftJob(BASE, "qa", Map.of("init_adapter", initAdapter, "max_steps", 1));
    }

    /**
     * Stores a version as the registry-service leaves it: the PEFT adapter files of a LoRA adapter of
     * the base model (B random, so it changes the model), then the manifest naming each file's size
     * and SHA-256.
     */
    private void registerAdapter(String name, long version, LoraConfig config) throws Exception {
        Path base = Files.createTempDirectory("base-");
        for (ObjectInfo object : store.list(ObjectKeys.baseModelPrefix(BASE))) {
            store.download(
                    object.key(),
                    base.resolve(object.key()
                            .substring(ObjectKeys.baseModelPrefix(BASE).length())));
        }
        Path adapter = Files.createTempDirectory("adapter-");
        try (CausalLm lm = CausalLm.load(base, Device.cpu())) {
            Adapters adapters = Adapters.apply(lm, config, 11);
            SplittableRandom random = new SplittableRandom(11);
            adapters.layers().values().forEach(layer -> {
                float[] b = new float[Math.toIntExact(layer.loraB().shape().size())]; // [O, R]
                for (int i = 0; i < b.length; i++) {
                    b[i] = (float) (random.nextDouble() * 0.2 - 0.1);
                }
                layer.loraB().array().set(b);
            });
            PeftAdapter.save(adapters, adapter, BASE);
        }
        StringBuilder files = new StringBuilder();
        try (Stream<Path> listing = Files.list(adapter)) {
            for (Path file : listing.sorted().toList()) {
                String fileName = file.getFileName().toString();
                store.putFile(ObjectKeys.registry(name, version, fileName), file, "application/octet-stream");
                files.append(files.length() == 0 ? "" : ",")
                        .append("\"")
                        .append(fileName)
                        .append("\":{\"size\":")
                        .append(Files.size(file))
                        .append(",\"sha256\":\"")
                        .append(Digests.of(file))
                        .append("\"}");
            }
        }
        store.putBytes(
                ObjectKeys.registryManifest(name, version),
                ("{\"model\":\"" + name + "\",\"version\":" + version + ",\"kind\":\"adapter\",\"baseModel\":\"" + BASE
                                + "\",\"files\":{" + files + "}}")
                        .getBytes(StandardCharsets.UTF_8),
                "application/json");
    }

    private void alias(String name, String alias, long version) {
        store.putBytes(
                ObjectKeys.registryAlias(name, alias),
                ("{\"model\":\"" + name + "\",\"alias\":\"" + alias + "\",\"version\":" + version + ",\"revision\":1}")
                        .getBytes(StandardCharsets.UTF_8),
                "application/json");
    }
}
