package dev.finetune.deploy.validation;

import com.fasterxml.jackson.databind.BeanDescription;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.introspect.AnnotatedMember;
import com.fasterxml.jackson.databind.introspect.BeanPropertyDefinition;
import dev.finetune.deploy.JsonPaths;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Finds the fields a typed model did not know. Fabric8 and Strimzi classes never fail on an unknown
 * field: they keep it in {@code additionalProperties}. This walks the whole object graph through the
 * properties Jackson sees and reports every non-empty one, as a path such as
 * {@code spec.template.spec.containers[worker].livenessProbe.httpGet.prot}.
 */
final class UnknownFields {
    private static final List<String> MODEL_PACKAGES =
            List.of("io.fabric8.kubernetes.api.model", "io.strimzi.api", "dev.finetune.deploy");

    private final ObjectMapper mapper;
    private final Set<Object> seen = Collections.newSetFromMap(new IdentityHashMap<>());
    private final Set<String> found = new LinkedHashSet<>();

    private UnknownFields(ObjectMapper mapper) {
        this.mapper = mapper;
    }

    static List<String> find(ObjectMapper mapper, Object root) {
        UnknownFields walker = new UnknownFields(mapper);
        walker.walk(root, "");
        return List.copyOf(walker.found);
    }

    private void walk(Object value, String path) {
        if (value == null) {
            return;
        }
        if (value instanceof List<?> list) {
            for (int i = 0; i < list.size(); i++) {
                walk(list.get(i), path + "[" + label(list.get(i), i) + "]");
            }
            return;
        }
        if (value instanceof Map<?, ?> map) {
            map.forEach((key, element) -> walk(element, JsonPaths.child(path, String.valueOf(key))));
            return;
        }
        if (!isModel(value.getClass()) || !seen.add(value)) {
            return;
        }
        BeanDescription description = describe(value);
        AnnotatedMember anyGetter = description.findAnyGetter();
        // Strimzi exposes the same map as an any-getter and as a property: found is a set.
        if (anyGetter != null) {
            report(read(anyGetter, value), path);
        }
        for (BeanPropertyDefinition property : description.findProperties()) {
            AnnotatedMember accessor = property.getAccessor();
            if (accessor == null) {
                continue;
            }
            Object propertyValue = read(accessor, value);
            if (property.getName().equals("additionalProperties")) {
                report(propertyValue, path);
            } else {
                walk(propertyValue, JsonPaths.child(path, property.getName()));
            }
        }
    }

    private void report(Object additional, String path) {
        if (additional instanceof Map<?, ?> map) {
            map.keySet().forEach(key -> found.add(JsonPaths.child(path, String.valueOf(key))));
        }
    }

    /** A list element's name when it has one ({@code containers[worker]}), else its index. */
    private String label(Object element, int index) {
        if (element != null && isModel(element.getClass())) {
            for (BeanPropertyDefinition property : describe(element).findProperties()) {
                if (property.getName().equals("name") && property.getAccessor() != null) {
                    Object name = read(property.getAccessor(), element);
                    if (name instanceof String s && !s.isEmpty()) {
                        return s;
                    }
                }
            }
        }
        return String.valueOf(index);
    }

    private BeanDescription describe(Object value) {
        return mapper.getSerializationConfig().introspect(mapper.constructType(value.getClass()));
    }

    private static Object read(AnnotatedMember member, Object owner) {
        member.fixAccess(true);
        return member.getValue(owner);
    }

    private static boolean isModel(Class<?> type) {
        String name = type.getName();
        return MODEL_PACKAGES.stream().anyMatch(name::startsWith);
    }
}
