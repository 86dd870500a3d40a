package dev.finetune.deploy;

import com.fasterxml.jackson.databind.JsonMappingException;
import java.util.stream.Collectors;

/** Dotted paths ({@code spec.template.spec.containers[0].image}) for messages. */
public final class JsonPaths {
    private JsonPaths() {}

    /** Where in the document a Jackson mapping error happened. */
    public static String of(JsonMappingException e) {
        return e.getPath().stream()
                .map(ref -> ref.getFieldName() != null ? "." + ref.getFieldName() : "[" + ref.getIndex() + "]")
                .collect(Collectors.joining())
                .replaceFirst("^\\.", "");
    }

    public static String child(String parent, String field) {
        return parent.isEmpty() ? field : parent + "." + field;
    }
}
