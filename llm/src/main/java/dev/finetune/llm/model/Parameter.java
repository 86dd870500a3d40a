package dev.finetune.llm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/**
 * A named weight slot of a {@link Module}. The shape is fixed when the module is built; the value
 * is set when weights are loaded or initialised. Values live in the model's NDManager. Training
 * will later call {@code array().setRequiresGradient(true)} on the trainable ones only.
 */
public final class Parameter {
    private final String name;
    private final Shape shape;
    private NDArray value;

    Parameter(String name, Shape shape) {
        this.name = name;
        this.shape = shape;
    }

    /** The name inside its module ({@code weight}, {@code bias}). */
    public String name() {
        return name;
    }

    public Shape shape() {
        return shape;
    }

    public boolean isSet() {
        return value != null;
    }

    public NDArray array() {
        if (value == null) {
            throw new IllegalStateException("parameter '" + name + "' " + shape + " has no value: load weights first");
        }
        return value;
    }

    /** Replaces the value (closing the previous one); the shape must match. */
    public void set(NDArray newValue) {
        if (!newValue.getShape().equals(shape)) {
            throw new IllegalArgumentException(
                    "parameter '" + name + "' has shape " + shape + ", got " + newValue.getShape());
        }
        if (value != null && value != newValue) {
            value.close();
        }
        value = newValue;
    }
}
