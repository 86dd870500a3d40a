package dev.finetune.dataset.service;

import dev.finetune.localstack.LocalStackTestResource;
import dev.finetune.service.PoisonRecordContractTest;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.nio.charset.StandardCharsets;

@QuarkusTest
@WithTestResource(LocalStackTestResource.class)
class DatasetPoisonRecordTest extends PoisonRecordContractTest {
    /**
     * datasets.submitted: an object in the allowed upstream location, which is ingested;
     * datasets.ingested: a version uploaded and prepared before, which is announced again.
     */
    @Override
    protected ValidEvent validEvent(String channel) throws Exception {
        return switch (channel) {
            case "datasets-submitted" -> {
                String name = DatasetUploadTest.unique("poison-submitted");
                String key = "exports/" + name + ".jsonl";
                DatasetSubmissionTest.upstream()
                        .putBytes(
                                key, DatasetUploadTest.alpaca(5).getBytes(StandardCharsets.UTF_8), "application/jsonl");
                String event = "{\"datasetName\":\"" + name + "\",\"objectUri\":\"s3://upstream-exports/" + key
                        + "\",\"format\":\"%s\"}";
                yield new ValidEvent(event.formatted("auto"), event.formatted("no-such-format"));
            }
            case "datasets-ingested" -> {
                String name = DatasetUploadTest.unique("poison-ingested");
                DatasetUploadTest.upload(name, DatasetUploadTest.alpaca(5), 201);
                DatasetUploadTest.awaitStatus(name, "1", "prepared");
                String event = "{\"datasetId\":\"" + name + "@1\",\"datasetName\":\"" + name + "\",\"version\":\"1\","
                        + "\"format\":\"%s\",\"rawKey\":\"datasets/raw/" + name + "/1/data.jsonl\",\"sha256\":\"0\","
                        + "\"sizeBytes\":1,\"source\":\"upload\"}";
                yield new ValidEvent(event.formatted("auto"), event.formatted("no-such-format"));
            }
            default -> throw new IllegalArgumentException("no valid event for channel " + channel);
        };
    }
}
