package dev.finetune.registry.promotion;

import dev.finetune.registry.store.JsonObjects;
import dev.finetune.registry.store.RegistryKeys;
import dev.finetune.storage.ObjectStore;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Optional;

/** The models' promotion rules in the object store, one optional {@link PromotionPolicy} per model. */
@ApplicationScoped
public class PromotionPolicies {
    private final ObjectStore store;
    private final JsonObjects json;

    PromotionPolicies(ObjectStore store, JsonObjects json) {
        this.store = store;
        this.json = json;
    }

    public Optional<PromotionPolicy> get(String model) {
        return json.read(RegistryKeys.policy(model), PromotionPolicy.class);
    }

    public PromotionPolicy put(String model, PromotionPolicy policy) {
        json.write(RegistryKeys.policy(model), policy);
        return policy;
    }

    public void delete(String model) {
        store.delete(RegistryKeys.policy(model));
    }
}
