package dev.finetune.deploy.validation;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import dev.finetune.deploy.JsonPaths;
import dev.finetune.deploy.render.Resource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Checks rendered objects against the Kubernetes, Strimzi, KEDA and Prometheus Operator schemas, strictly: every object
 * must have a known apiVersion and kind, deserialize into its typed class without a type error, and
 * carry no field the class does not define. Then the fields the API server would require, and the
 * rule that credentials never appear in a manifest. Each problem names the object, the files it came
 * from and the path of the field.
 */
public final class ManifestValidator {
    private final ObjectMapper mapper = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    /** The typed objects that deserialized, and every problem found. */
    public record Validation(Map<Resource, Object> typed, List<ManifestProblem> problems) {
        public <T> List<T> all(Class<T> type) {
            return typed.values().stream()
                    .filter(type::isInstance)
                    .map(type::cast)
                    .toList();
        }
    }

    public Validation validate(List<Resource> resources) {
        Map<Resource, Object> typed = new LinkedHashMap<>();
        List<ManifestProblem> problems = new ArrayList<>();
        for (Resource resource : resources) {
            String where = resource.describe();
            CredentialScan.check(resource, problems);
            Optional<Class<?>> type = Schemas.typeOf(resource.apiVersion(), resource.kind());
            if (type.isEmpty()) {
                problems.add(new ManifestProblem(
                        where,
                        "",
                        "no schema for apiVersion " + resource.apiVersion() + " kind " + resource.kind() + " (known: "
                                + Schemas.known() + ")"));
                continue;
            }
            Object object;
            try {
                object = mapper.treeToValue(resource.body(), type.get());
            } catch (UnrecognizedPropertyException e) {
                problems.add(new ManifestProblem(where, JsonPaths.of(e), "unknown field"));
                continue;
            } catch (JsonMappingException e) {
                problems.add(new ManifestProblem(
                        where, JsonPaths.of(e), "wrong type: " + firstLine(e.getOriginalMessage())));
                continue;
            } catch (Exception e) {
                problems.add(new ManifestProblem(where, "", "cannot read: " + firstLine(e.getMessage())));
                continue;
            }
            for (String path : UnknownFields.find(mapper, object)) {
                problems.add(new ManifestProblem(where, path, "unknown field"));
            }
            typed.put(resource, object);
            ObjectRules.check(resource, object, problems);
        }
        return new Validation(typed, problems);
    }

    private static String firstLine(String message) {
        return message == null ? "" : message.lines().findFirst().orElse("");
    }
}
