package dev.finetune.llm.tokenizer;

import java.beans.FeatureDescriptor;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELException;
import jinjava.javax.el.ELResolver;

/**
 * Gives strings in a chat template their Python behaviour: {@code s.startswith(x)} and the other
 * {@link PythonStrings} methods, and {@code s[i]} indexing (negative from the end). Without it
 * Jinjava calls the Java method of the same name if there is one ({@code split} takes a regex and
 * drops trailing empty strings) and fails otherwise. Placed before Jinjava's own resolvers, it
 * resolves only what it handles and leaves everything else unresolved.
 */
final class PythonMethodResolver extends ELResolver {
    @Override
    public Object invoke(ELContext context, Object base, Object method, Class<?>[] paramTypes, Object[] params) {
        if (!(base instanceof CharSequence) || method == null || !PythonStrings.supports(method.toString())) {
            return null;
        }
        try {
            Object result = PythonStrings.call(
                    base.toString(), method.toString(), params == null ? java.util.List.of() : Arrays.asList(params));
            context.setPropertyResolved(true);
            return result;
        } catch (IllegalArgumentException | IndexOutOfBoundsException e) {
            throw new ELException("str." + method + "(): " + e.getMessage(), e);
        }
    }

    @Override
    public Object getValue(ELContext context, Object base, Object property) {
        if (!(base instanceof CharSequence) || property == null) {
            return null;
        }
        Integer index = integerIndex(property);
        if (index == null) {
            return null;
        }
        String s = base.toString();
        int length = s.codePointCount(0, s.length());
        int i = index < 0 ? index + length : index;
        if (i < 0 || i >= length) {
            throw new ELException("string index " + index + " out of range for a string of length " + length);
        }
        int from = s.offsetByCodePoints(0, i);
        context.setPropertyResolved(true);
        return s.substring(from, s.offsetByCodePoints(from, 1));
    }

    private static Integer integerIndex(Object property) {
        if (property instanceof Integer || property instanceof Long) {
            return ((Number) property).intValue();
        }
        String text = property.toString();
        return text.matches("-?\\d{1,9}") ? Integer.valueOf(text) : null;
    }

    @Override
    public Class<?> getType(ELContext context, Object base, Object property) {
        return null;
    }

    @Override
    public void setValue(ELContext context, Object base, Object property, Object value) {
        // strings are immutable; leave unresolved
    }

    @Override
    public boolean isReadOnly(ELContext context, Object base, Object property) {
        return true;
    }

    @Override
    public Iterator<FeatureDescriptor> getFeatureDescriptors(ELContext context, Object base) {
        return Collections.emptyIterator();
    }

    @Override
    public Class<?> getCommonPropertyType(ELContext context, Object base) {
        return null;
    }
}
