package dev.finetune.llm.model;

import ai.djl.ndarray.types.Shape;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A node of the model tree, like {@code torch.nn.Module}: named parameters and named children.
 * Names are chosen to be HuggingFace's, so the dotted path of a parameter ({@code
 * model.layers.0.self_attn.q_proj.weight}) is its checkpoint key and loading needs no lookup table.
 * Constructors assemble the tree; subclasses' {@code forward} methods compute.
 */
public abstract class Module {
    private final Map<String, Parameter> parameters = new LinkedHashMap<>();
    private final Map<String, Module> children = new LinkedHashMap<>();

    protected final Parameter parameter(String name, long... shape) {
        Parameter parameter = new Parameter(name, new Shape(shape));
        if (parameters.putIfAbsent(name, parameter) != null) {
            throw new IllegalArgumentException("duplicate parameter " + name);
        }
        return parameter;
    }

    protected final <M extends Module> M child(String name, M module) {
        if (children.putIfAbsent(name, module) != null) {
            throw new IllegalArgumentException("duplicate child " + name);
        }
        return module;
    }

    /** The child registered under {@code name}. */
    public final Module child(String name) {
        Module module = children.get(name);
        if (module == null) {
            throw new IllegalArgumentException(getClass().getSimpleName() + " has no child '" + name + "'");
        }
        return module;
    }

    /**
     * Puts {@code replacement} where child {@code name} was, e.g. a LoRA linear that wraps the
     * base linear it replaces. The replacement must fill the same role ({@link LinearLayer} for a
     * linear).
     */
    public final void replaceChild(String name, Module replacement) {
        Module current = child(name);
        if (current instanceof LinearLayer && !(replacement instanceof LinearLayer)) {
            throw new IllegalArgumentException("child '" + name + "' is a linear layer; the replacement is not");
        }
        children.put(name, replacement);
    }

    /** Takes child {@code name} out of the tree (its parameters with it) and returns it. */
    protected final Module removeChild(String name) {
        Module removed = child(name);
        children.remove(name);
        return removed;
    }

    public final Map<String, Module> children() {
        return Collections.unmodifiableMap(children);
    }

    /** Every parameter of this subtree by dotted path, in declaration order. */
    public final Map<String, Parameter> namedParameters() {
        Map<String, Parameter> all = new LinkedHashMap<>();
        collect("", all);
        return all;
    }

    private void collect(String prefix, Map<String, Parameter> into) {
        parameters.forEach((name, parameter) -> into.put(prefix + name, parameter));
        children.forEach((name, module) -> module.collect(prefix + name + ".", into));
    }

    /** The linear child registered under {@code name} (possibly replaced by a wrapper). */
    protected final LinearLayer linear(String name) {
        return (LinearLayer) child(name);
    }
}
