package dev.finetune.errors;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.deser.DeserializationProblemHandler;
import java.io.IOException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;

/**
 * Lets a mapper that refuses unknown fields read back what it wrote: a property that the type
 * writes but cannot take (a derived getter such as {@code isPrepared()} next to the record's {@code
 * status}) is skipped, not refused. Every other unknown field is still refused.
 */
public final class ReadOnlyProperties extends DeserializationProblemHandler {

    @Override
    public boolean handleUnknownProperty(
            DeserializationContext ctxt,
            JsonParser p,
            JsonDeserializer<?> deserializer,
            Object beanOrClass,
            String propertyName)
            throws IOException {
        Class<?> type = beanOrClass instanceof Class<?> c ? c : beanOrClass.getClass();
        if (writes(type, propertyName)) {
            p.skipChildren(); // the value: an object or array whole, a scalar as it is
            return true;
        }
        return false;
    }

    /** Whether serialising {@code type} writes {@code property} through a getter of its own. */
    static boolean writes(Class<?> type, String property) {
        if (property == null || property.isEmpty()) {
            return false;
        }
        String capitalised = Character.toUpperCase(property.charAt(0)) + property.substring(1);
        for (Method m : type.getMethods()) {
            if (m.getParameterCount() != 0
                    || Modifier.isStatic(m.getModifiers())
                    || m.getReturnType() == void.class
                    || m.getDeclaringClass() == Object.class
                    || m.isAnnotationPresent(JsonIgnore.class)) {
                continue;
            }
            JsonProperty named = m.getAnnotation(JsonProperty.class);
            if (named != null && property.equals(named.value())) {
                return true;
            }
            boolean isGetter = m.getName().equals("is" + capitalised)
                    && (m.getReturnType() == boolean.class || m.getReturnType() == Boolean.class);
            if (isGetter || m.getName().equals("get" + capitalised)) {
                return true;
            }
        }
        return false;
    }
}
