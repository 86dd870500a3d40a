package dev.finetune.eval.run;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.llm.quant.BaseDType;
import dev.finetune.naming.Names;
import dev.finetune.storage.ObjectStore;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The base model's metrics per (base model, dataset version, limits, storage), computed once and
 * stored at {@code evaluations/base/<model>/<dataset>/<version>/<limits>.json} ({@code
 * <limits>-int8.json} and {@code -nf4} when the base was scored quantised, and {@code
 * -prompt-<settings>} for a prompt baseline): every checkpoint of every job on that data compares
 * against the same numbers. Base models and prepared versions never
 * change, so the entry never goes stale.
 */
@ApplicationScoped
public class BaseMetricsCache {
    /** The base model as it is, no prompt put before the examples. */
    public static final String ZERO_SHOT = "";

    private final ObjectStore store;
    private final ObjectMapper json;

    BaseMetricsCache(ObjectStore store, ObjectMapper json) {
        this.store = store;
        this.json = json;
    }

    /** A cached base result. */
    public record Entry(
            String baseModel,
            String datasetName,
            String datasetVersion,
            Limits limits,
            Map<String, Double> metrics,
            long scoredTokens,
            List<Generation> generations) {}

    /**
     * @param variant how the base model was prompted: {@link #ZERO_SHOT}, or a prompt baseline's
     *     {@link PromptBaseline#key}
     */
    public static String key(
            String baseModel, String dataset, String version, Limits limits, BaseDType stored, String variant) {
        return "evaluations/base/" + Names.requireName("base model name", baseModel) + "/"
                + Names.requireName("dataset name", dataset) + "/" + Names.requireName("dataset version", version)
                + "/" + limits.key() + (stored == BaseDType.FP32 ? "" : "-" + stored.configName())
                + (variant.isEmpty() ? "" : "-" + Names.requireName("prompt variant", variant)) + ".json";
    }

    public Optional<Entry> get(
            String baseModel, String dataset, String version, Limits limits, BaseDType stored, String variant) {
        String key = key(baseModel, dataset, version, limits, stored, variant);
        if (!store.exists(key)) {
            return Optional.empty();
        }
        try {
            return Optional.of(json.readValue(store.getBytes(key), Entry.class));
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + key, e);
        }
    }

    public void put(Entry entry, BaseDType stored, String variant) {
        String key =
                key(entry.baseModel(), entry.datasetName(), entry.datasetVersion(), entry.limits(), stored, variant);
        try {
            store.putBytes(key, json.writeValueAsBytes(entry), "application/json");
        } catch (IOException e) {
            throw new UncheckedIOException("writing " + key, e);
        }
    }
}
