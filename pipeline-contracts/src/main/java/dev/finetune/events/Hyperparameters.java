package dev.finetune.events;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The training settings a job sets, as a JSON object of HF/TRL names to plain values ({@code
 * {"learning_rate": 2e-4, "lora_r": 16}}); every other setting takes its default. The names, types,
 * defaults and rules are declared once, in llm's {@code dev.finetune.llm.settings.Settings}; the
 * training-service checks every name and value against them before it accepts a job (an unknown name
 * is refused with the closest known one), and stores the checked values, so a job record and its
 * {@code training.jobs} event only ever hold valid settings.
 *
 * @param values setting name to a number, boolean, string or list of strings
 */
public record Hyperparameters(@JsonValue Map<String, Object> values) {
    @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
    public Hyperparameters {
        values = values == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(values));
    }

    /** No setting: every value is the recipe's default. */
    public static Hyperparameters none() {
        return new Hyperparameters(Map.of());
    }
}
