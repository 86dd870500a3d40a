package dev.finetune.dataset.tokens;

import dev.finetune.dataset.DatasetSettings;
import dev.finetune.dataset.prepare.TokenCounter;
import dev.finetune.errors.InvalidInputException;
import dev.finetune.llm.tokenizer.Tokenizer;
import dev.finetune.llm.tokenizer.TokenizerException;
import dev.finetune.storage.ObjectKeys;
import dev.finetune.storage.ObjectNotFoundException;
import dev.finetune.storage.ObjectStore;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Token counters by base-model name: the model's tokenizer files are fetched from
 * {@code models/base/<name>/} once and kept loaded. No model named: the configured default model,
 * else the byte approximation.
 */
@ApplicationScoped
public class TokenCounters {
    private static final List<String> TOKENIZER_FILES =
            List.of("tokenizer.json", "tokenizer_config.json", "generation_config.json");

    private final ObjectStore store;
    private final DatasetSettings settings;
    private final Map<String, ModelTokenCounter> loaded = new ConcurrentHashMap<>();
    private final Map<String, Tokenizer> tokenizers = new ConcurrentHashMap<>();

    TokenCounters(ObjectStore store, DatasetSettings settings) {
        this.store = store;
        this.settings = settings;
    }

    /** The counter for {@code model}, or the default when it is null. */
    public TokenCounter forModel(String model) {
        String name = model != null ? model : settings.defaultTokenizerModel().orElse(null);
        if (name == null) {
            return new ApproximateTokenCounter();
        }
        return loaded.computeIfAbsent(name, this::load);
    }

    private ModelTokenCounter load(String model) {
        try {
            Path dir = settings.newWorkDirectory("tokenizer-" + model + "-");
            for (String file : TOKENIZER_FILES) {
                try {
                    store.download(ObjectKeys.baseModel(model, file), dir.resolve(file));
                } catch (ObjectNotFoundException e) {
                    if (file.equals("tokenizer.json")) {
                        throw new InvalidInputException(
                                "tokenizer",
                                "base model '" + model + "' has no tokenizer.json at "
                                        + ObjectKeys.baseModel(model, file));
                    }
                }
            }
            Tokenizer tokenizer = Tokenizer.load(dir);
            tokenizers.put(model, tokenizer);
            return new ModelTokenCounter(model, tokenizer);
        } catch (TokenizerException e) {
            throw new InvalidInputException(
                    "tokenizer", "the tokenizer of base model '" + model + "' cannot be loaded: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException("fetching the tokenizer of base model '" + model + "'", e);
        }
    }

    @PreDestroy
    void close() {
        tokenizers.values().forEach(Tokenizer::close);
    }
}
