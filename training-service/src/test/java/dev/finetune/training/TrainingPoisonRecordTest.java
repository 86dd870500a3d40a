package dev.finetune.training;

import dev.finetune.localstack.LocalStackTestResource;
import dev.finetune.service.PoisonRecordContractTest;
import dev.finetune.storage.ObjectStore;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.util.UUID;

@QuarkusTest
@WithTestResource(LocalStackTestResource.class)
class TrainingPoisonRecordTest extends PoisonRecordContractTest {
    @Inject
    ObjectStore store;

    /**
     * training.jobs: a one-step job on the tiny model (the worker commits its record when it ends);
     * datasets.prepared: a prepared version without a training trigger.
     */
    @Override
    protected ValidEvent validEvent(String channel) throws Exception {
        String id = "poison-" + UUID.randomUUID().toString().substring(0, 8);
        return switch (channel) {
            case "training-jobs" -> {
                Fixtures.baseModel(store, "tiny-qwen3");
                Fixtures.sftDataset(store, "qa");
                String job = "{\"jobId\":\"" + id + "\",\"baseModel\":\"tiny-qwen3\",\"datasetName\":\"qa\","
                        + "\"datasetVersion\":\"1\",\"method\":\"%s\",\"objective\":\"sft\",\"hyperparameters\":"
                        + "{\"max_steps\":1,\"per_device_train_batch_size\":2,\"max_seq_length\":32}}";
                yield new ValidEvent(job.formatted("lora"), job.formatted("no-such-method"));
            }
            case "datasets-prepared" -> {
                String prepared = "{\"datasetId\":\"" + id + "@1\",\"datasetName\":\"" + id + "\",\"version\":\"1\","
                        + "\"kind\":\"%s\"}";
                yield new ValidEvent(prepared.formatted("sft"), prepared.formatted("no-such-kind"));
            }
            default -> throw new IllegalArgumentException("no valid event for channel " + channel);
        };
    }
}
