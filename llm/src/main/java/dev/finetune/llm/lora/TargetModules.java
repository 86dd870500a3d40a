package dev.finetune.llm.lora;

import dev.finetune.llm.model.CausalLm;
import dev.finetune.llm.model.LinearLayer;
import dev.finetune.llm.model.Module;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Finds the linear layers a {@link LoraConfig#targetModules()} list selects, as PEFT does for a list:
 * a module matches a target when its path equals the target or ends with {@code "." + target}, so
 * {@code q_proj} and {@code self_attn.q_proj} both select {@code model.layers.N.self_attn.q_proj}.
 * Only the linears of the decoder layers are candidates: the LM head is excluded (as PEFT's
 * {@code all-linear} excludes the output layer; the head is also tied to the embedding in some models).
 */
public final class TargetModules {
    /** Where the decoder layers live in a {@link CausalLm}. */
    static final String LAYERS_PREFIX = "model.layers.";

    private TargetModules() {}

    /** A linear layer in the module tree: its dotted path, its parent and its name in the parent. */
    public record Site(String path, Module parent, String name, Module module) {}

    /** Every linear layer of the decoder layers, in module-tree order. */
    public static List<Site> decoderLinears(CausalLm model) {
        List<Site> sites = new ArrayList<>();
        collect(model, "", sites);
        sites.removeIf(site -> !site.path().startsWith(LAYERS_PREFIX));
        return sites;
    }

    /**
     * The decoder linears selected by {@code targets}, in module-tree order.
     *
     * @throws IllegalArgumentException naming a target that selects nothing, with the names available
     */
    public static List<Site> resolve(CausalLm model, List<String> targets) {
        List<Site> candidates = decoderLinears(model);
        if (targets.equals(List.of(LoraConfig.ALL_LINEAR))) {
            return candidates;
        }
        Set<String> selected = new LinkedHashSet<>();
        for (String target : targets) {
            boolean found = false;
            for (Site site : candidates) {
                if (site.path().equals(target) || site.path().endsWith("." + target)) {
                    selected.add(site.path());
                    found = true;
                }
            }
            if (!found) {
                throw new IllegalArgumentException("lora.target_modules: \"" + target
                        + "\" matches no linear layer of the decoder layers; available: " + availableNames(candidates)
                        + " or \"" + LoraConfig.ALL_LINEAR + "\" (lm_head cannot be adapted)");
            }
        }
        return candidates.stream()
                .filter(site -> selected.contains(site.path()))
                .toList();
    }

    /** The distinct last path components of {@code sites}, sorted: what PEFT stores as target_modules. */
    public static List<String> names(List<Site> sites) {
        return List.copyOf(availableNames(sites));
    }

    private static Set<String> availableNames(List<Site> sites) {
        Set<String> names = new TreeSet<>();
        sites.forEach(site -> names.add(site.name()));
        return names;
    }

    /** Depth-first in registration order; a linear layer is a leaf even when it wraps another. */
    private static void collect(Module module, String prefix, List<Site> into) {
        for (Map.Entry<String, Module> entry : module.children().entrySet()) {
            String path = prefix + entry.getKey();
            Module child = entry.getValue();
            if (child instanceof LinearLayer) {
                into.add(new Site(path, module, entry.getKey(), child));
            } else {
                collect(child, path + ".", into);
            }
        }
    }
}
