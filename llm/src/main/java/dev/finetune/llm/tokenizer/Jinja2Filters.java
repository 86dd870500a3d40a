package dev.finetune.llm.tokenizer;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.exptest.ExpTest;
import com.hubspot.jinjava.lib.filter.Filter;
import com.hubspot.jinjava.lib.filter.LengthFilter;
import com.hubspot.jinjava.util.ForLoop;
import com.hubspot.jinjava.util.ObjectIterator;
import com.hubspot.jinjava.util.ObjectTruthValue;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Filters and tests with Python Jinja2's semantics where Jinjava's differ: {@code tojson}
 * (transformers' json.dumps), {@code items}, {@code trim} (str.strip), {@code length}/{@code count}
 * (code points), the tests {@code iterable} and {@code sequence} (true for strings and dicts), and
 * the internal {@code __pyslice} and {@code __loop_if} that {@link Jinja2Rewriter} output calls.
 */
final class Jinja2Filters {
    private Jinja2Filters() {}

    static List<Filter> all() {
        return List.of(
                new ToJson(),
                new Items(),
                new Trim(),
                new Length("length"),
                new Length("count"),
                new PySlice(),
                new LoopIf());
    }

    static List<ExpTest> tests() {
        return List.of(
                new PythonTest(
                        "iterable",
                        v -> v instanceof CharSequence
                                || v instanceof Iterable<?>
                                || v instanceof Map<?, ?>
                                || v instanceof Iterator<?>
                                || (v != null && v.getClass().isArray())),
                new PythonTest(
                        "sequence",
                        v -> v instanceof CharSequence
                                || v instanceof Collection<?>
                                || v instanceof Map<?, ?>
                                || (v != null && v.getClass().isArray())));
    }

    /** A test that depends only on the value. */
    private record PythonTest(String getName, java.util.function.Predicate<Object> test) implements ExpTest {
        @Override
        public boolean evaluate(Object var, JinjavaInterpreter interpreter, Object... args) {
            return test.test(var);
        }
    }

    /** Base for filters that take positional and keyword arguments as objects. */
    private abstract static class ObjectFilter implements Filter {
        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            return filter(var, interpreter, (Object[]) args, Map.of());
        }

        @Override
        public abstract Object filter(
                Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs);

        static Object argument(Object[] args, Map<String, Object> kwargs, int position, String name, Object absent) {
            if (kwargs.containsKey(name)) {
                return kwargs.get(name);
            }
            return args != null && args.length > position ? args[position] : absent;
        }
    }

    /** transformers' {@code tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False)}. */
    private static final class ToJson extends ObjectFilter {
        @Override
        public String getName() {
            return "tojson";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            boolean ensureAscii = ObjectTruthValue.evaluate(argument(args, kwargs, 0, "ensure_ascii", false));
            Object indent = argument(args, kwargs, 1, "indent", null);
            Object separators = argument(args, kwargs, 2, "separators", null);
            boolean sortKeys = ObjectTruthValue.evaluate(argument(args, kwargs, 3, "sort_keys", false));
            String indentText = indent == null
                    ? null
                    : indent instanceof Number n ? " ".repeat(Math.max(0, n.intValue())) : indent.toString();
            List<String> separatorPair = separators == null ? null : strings(separators);
            return PythonJson.dumps(var, PythonJson.Options.of(ensureAscii, indentText, separatorPair, sortKeys));
        }

        private static List<String> strings(Object value) {
            List<String> out = new ArrayList<>();
            ObjectIterator.getLoop(value).forEachRemaining(v -> out.add(String.valueOf(v)));
            return out;
        }
    }

    /** Jinja2's {@code items}: the (key, value) pairs of a mapping. */
    private static final class Items extends ObjectFilter {
        @Override
        public String getName() {
            return "items";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            if (var == null) {
                return List.of();
            }
            if (!(var instanceof Map<?, ?> map)) {
                throw new IllegalArgumentException("items filter: can only get item pairs from a mapping, got "
                        + var.getClass().getSimpleName());
            }
            List<Map.Entry<Object, Object>> entries = new ArrayList<>();
            map.forEach((k, v) -> entries.add(new AbstractMap.SimpleImmutableEntry<>(k, v)));
            return entries;
        }
    }

    /** Jinja2's {@code trim(chars=None)}, which is Python's {@code str.strip}. */
    private static final class Trim extends ObjectFilter {
        @Override
        public String getName() {
            return "trim";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            Object chars = argument(args, kwargs, 0, "chars", null);
            return PythonStrings.strip(
                    var == null ? "" : var.toString(), chars == null ? null : chars.toString(), true, true);
        }
    }

    /** Python's {@code len}: strings count code points, not UTF-16 units ("🙂" has length 1). */
    private static final class Length extends ObjectFilter {
        private final String name;
        private final Filter jinjavaLength = new LengthFilter();

        Length(String name) {
            this.name = name;
        }

        @Override
        public String getName() {
            return name;
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            if (var instanceof CharSequence s) {
                return s.toString().codePointCount(0, s.length());
            }
            return jinjavaLength.filter(var, interpreter);
        }
    }

    /** {@code seq|__pyslice(start, stop, step)}: Python's {@code seq[start:stop:step]} for lists and strings. */
    private static final class PySlice extends ObjectFilter {
        @Override
        public String getName() {
            return "__pyslice";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            List<Object> items = new ArrayList<>();
            if (var instanceof CharSequence s) {
                s.toString().codePoints().forEach(cp -> items.add(Character.toString(cp)));
            } else if (var != null) {
                ObjectIterator.getLoop(var).forEachRemaining(items::add);
            }
            Integer start = index(args, 0);
            Integer stop = index(args, 1);
            Integer step = index(args, 2);
            List<Object> slice = slice(items, start, stop, step == null ? 1 : step);
            if (var instanceof CharSequence) {
                StringBuilder out = new StringBuilder();
                slice.forEach(out::append);
                return out.toString();
            }
            return slice;
        }

        private static Integer index(Object[] args, int i) {
            return args.length > i && args[i] instanceof Number n ? n.intValue() : null;
        }

        static List<Object> slice(List<Object> items, Integer start, Integer stop, int step) {
            if (step == 0) {
                throw new IllegalArgumentException("slice step cannot be zero");
            }
            int n = items.size();
            int lower = step > 0 ? 0 : -1;
            int upper = step > 0 ? n : n - 1;
            int from = start == null ? (step > 0 ? lower : upper) : bound(start, n, lower, upper);
            int to = stop == null ? (step > 0 ? upper : lower) : bound(stop, n, lower, upper);
            List<Object> out = new ArrayList<>();
            for (int i = from; step > 0 ? i < to : i > to; i += step) {
                out.add(items.get(i));
            }
            return out;
        }

        private static int bound(int index, int n, int lower, int upper) {
            int i = index < 0 ? index + n : index;
            return Math.max(lower, Math.min(upper, i));
        }
    }

    /** {@code xs|__loop_if('x', 'cond')}: the items of xs for which cond holds with x bound to the item. */
    private static final class LoopIf extends ObjectFilter {
        @Override
        public String getName() {
            return "__loop_if";
        }

        @Override
        @SuppressWarnings("try") // the scope is entered for its effect; the resource is never read
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            List<String> targets = Arrays.stream(
                            args[0].toString().replaceAll("[()]", "").split(","))
                    .map(String::strip)
                    .toList();
            String condition = args[1].toString();
            List<Object> kept = new ArrayList<>();
            ForLoop loop = ObjectIterator.getLoop(var);
            while (loop.hasNext()) {
                Object item = loop.next();
                try (var ignored = interpreter.enterScope()) { // the loop targets live only here
                    bind(interpreter, targets, item);
                    if (ObjectTruthValue.evaluate(
                            interpreter.resolveELExpression(condition, interpreter.getLineNumber()))) {
                        kept.add(item);
                    }
                }
            }
            return kept;
        }

        private static void bind(JinjavaInterpreter interpreter, List<String> targets, Object item) {
            if (targets.size() == 1) {
                interpreter.getContext().put(targets.get(0), item);
                return;
            }
            List<Object> values = new ArrayList<>();
            if (item instanceof Map.Entry<?, ?> entry) {
                values.add(entry.getKey());
                values.add(entry.getValue());
            } else if (item != null) {
                ObjectIterator.getLoop(item).forEachRemaining(values::add);
            }
            if (values.size() != targets.size()) {
                throw new IllegalArgumentException("cannot unpack " + values.size() + " values into " + targets);
            }
            for (int i = 0; i < targets.size(); i++) {
                interpreter.getContext().put(targets.get(i), values.get(i));
            }
        }
    }
}
