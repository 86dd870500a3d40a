package dev.finetune.cli.datasets;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code --set key=value} options as the JSON the services take: numbers as numbers, true/false as
 * booleans, {@code targetModules} as a list. The services validate names and ranges and answer 400
 * naming the field and value.
 */
public final class Hyperparameters {
    private Hyperparameters() {}

    public static Map<String, Object> parse(Map<String, String> values) {
        Map<String, Object> parsed = new LinkedHashMap<>();
        if (values == null) {
            return parsed;
        }
        values.forEach((key, value) -> parsed.put(key, value(key, value.strip())));
        return parsed;
    }

    private static Object value(String key, String value) {
        if (key.equals("targetModules")) {
            List<String> modules =
                    Arrays.stream(value.split(",")).map(String::strip).toList();
            return modules;
        }
        if (value.equals("true") || value.equals("false")) {
            return Boolean.parseBoolean(value);
        }
        try {
            return Long.parseLong(value);
        } catch (NumberFormatException notLong) {
            try {
                return Double.parseDouble(value);
            } catch (NumberFormatException notNumber) {
                return value;
            }
        }
    }
}
