package dev.finetune.training.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.events.Objective;
import dev.finetune.naming.Names;
import dev.finetune.storage.ObjectKeys;
import dev.finetune.storage.ObjectNotFoundException;
import dev.finetune.storage.ObjectStore;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The {@code validating} state: everything that can be checked before a worker spends an hour on
 * the job. Each failure says which field is wrong and why.
 */
@ApplicationScoped
public class JobValidator {
    private final ObjectStore store;
    private final ObjectMapper json;

    JobValidator(ObjectStore store, ObjectMapper json) {
        this.store = store;
        this.json = json;
    }

    /** @throws InvalidJobException with a message a person can act on */
    public void validate(JobRecord job) {
        require(job.baseModel() != null, "baseModel is required");
        require(job.datasetName() != null && job.datasetVersion() != null, "dataset name and version are required");
        require(job.method() != null, "method is required (full, lora or qlora)");
        require(job.objective() != null, "objective is required (sft or dpo)");
        names(job);
        if (!store.exists(ObjectKeys.baseModel(job.baseModel(), "config.json"))) {
            throw new InvalidJobException("baseModel: unknown base model '" + job.baseModel() + "' (no "
                    + ObjectKeys.baseModel(job.baseModel(), "config.json") + ")");
        }
        JsonNode manifest = manifest(job);
        String kind = manifest.path("kind").asText();
        if (job.objective() == Objective.DPO && !kind.equals("preference")) {
            throw new InvalidJobException("objective: dpo needs preference pairs, dataset " + job.datasetName() + "@"
                    + job.datasetVersion() + " holds " + kind + " data");
        }
        if (job.objective() == Objective.SFT && !kind.equals("sft")) {
            throw new InvalidJobException("objective: sft needs conversations, dataset " + job.datasetName() + "@"
                    + job.datasetVersion() + " holds " + kind + " data");
        }
        RecipeConfigs.of(job, Path.of("model"), Path.of("train.jsonl"), Path.of("out"));
    }

    private JsonNode manifest(dev.finetune.training.job.JobRecord job) {
        String key = ObjectKeys.preparedDataset(job.datasetName(), job.datasetVersion(), "manifest.json");
        JsonNode manifest;
        try {
            manifest = json.readTree(store.getBytes(key));
        } catch (ObjectNotFoundException e) {
            throw new InvalidJobException(
                    "dataset: " + job.datasetName() + "@" + job.datasetVersion() + " is not prepared (no " + key + ")");
        } catch (IOException e) {
            throw new InvalidJobException("dataset: the manifest " + key + " cannot be read: " + e.getMessage());
        }
        if (!"prepared".equals(manifest.path("status").asText())) {
            throw new InvalidJobException("dataset: " + job.datasetName() + "@" + job.datasetVersion() + " was "
                    + manifest.path("status").asText() + ": "
                    + manifest.path("rejection").asText());
        }
        return manifest;
    }

    private static void names(JobRecord job) {
        try {
            Names.requireName("baseModel", job.baseModel());
            Names.requireName("dataset name", job.datasetName());
            Names.requireName("dataset version", job.datasetVersion());
            if (job.suffix() != null) {
                Names.requireName("suffix", job.suffix());
            }
        } catch (IllegalArgumentException e) {
            throw new InvalidJobException(e.getMessage());
        }
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new InvalidJobException(message);
        }
    }
}
