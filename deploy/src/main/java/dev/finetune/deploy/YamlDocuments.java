package dev.finetune.deploy;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads multi-document YAML into JSON trees. A key given twice in one mapping is an error (kubectl
 * would silently keep one of them); empty documents (a file starting with {@code ---}) are skipped.
 */
public final class YamlDocuments {
    private static final ObjectMapper YAML = new ObjectMapper(YAMLFactory.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build());

    private YamlDocuments() {}

    /** Every non-empty document of the file; each must be a mapping. */
    public static List<ObjectNode> read(Path file, String displayName) {
        try {
            return read(Files.readString(file), displayName);
        } catch (IOException e) {
            throw new ManifestException(displayName + ": cannot read: " + e.getMessage(), e);
        }
    }

    public static List<ObjectNode> read(String text, String displayName) {
        List<ObjectNode> documents = new ArrayList<>();
        try (JsonParser parser = YAML.createParser(text);
                MappingIterator<JsonNode> it = YAML.readValues(parser, JsonNode.class)) {
            int index = 0;
            while (it.hasNextValue()) {
                JsonNode doc = it.nextValue();
                index++;
                if (doc == null || doc.isNull() || doc.isMissingNode()) {
                    continue;
                }
                if (!doc.isObject()) {
                    throw new ManifestException(
                            displayName + ": document " + index + " is a " + doc.getNodeType() + ", not a mapping");
                }
                documents.add((ObjectNode) doc);
            }
        } catch (ManifestException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new ManifestException(displayName + ": invalid YAML: " + firstLine(e.getMessage()), e);
        }
        return documents;
    }

    /** A mapper for turning trees into typed objects and back. */
    public static ObjectMapper json() {
        return new ObjectMapper();
    }

    private static String firstLine(String message) {
        return message == null ? "" : message.lines().findFirst().orElse("");
    }
}
