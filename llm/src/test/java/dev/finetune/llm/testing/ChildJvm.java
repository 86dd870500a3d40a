package dev.finetune.llm.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs a test class's {@code main} in a JVM of its own, for measuring memory without the test JVM's
 * history: a fixed heap touched up front (so the heap adds nothing to resident-size changes), the
 * engine on this JVM's thread settings, and glibc's malloc told to hand freed blocks of 128 KiB and
 * more back to the system at once (its default keeps raising that threshold and keeps freed memory,
 * which would hide what a piece of code frees). The child reports on its last output line as {@code
 * key=value} pairs separated by spaces.
 */
public final class ChildJvm {
    private static final List<String> FORWARDED = List.of(
            "ai.djl.pytorch.num_threads", "ai.djl.pytorch.num_interop_threads", "ai.djl.offline", "DJL_CACHE_DIR");

    private ChildJvm() {}

    /** Runs {@code mainClass} with {@code args}; its last line of output as numbers by key. */
    public static Map<String, Long> run(Class<?> mainClass, String heap, String... args)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(List.of("-Xms" + heap, "-Xmx" + heap, "-XX:+AlwaysPreTouch", "-XX:+UseSerialGC"));
        for (String property : FORWARDED) {
            String value = System.getProperty(property);
            if (value != null) {
                command.add("-D" + property + "=" + value);
            }
        }
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), mainClass.getName()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().put("MALLOC_MMAP_THRESHOLD_", "131072");
        builder.environment().put("MALLOC_TRIM_THRESHOLD_", "131072");
        Process process = builder.start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(2, TimeUnit.MINUTES) || process.exitValue() != 0) {
            process.destroyForcibly();
            throw new IllegalStateException(mainClass.getSimpleName() + " failed:\n" + output);
        }
        List<String> lines = output.lines().filter(l -> !l.isBlank()).toList();
        Map<String, Long> values = new LinkedHashMap<>();
        for (String pair : lines.get(lines.size() - 1).split(" ")) {
            int equals = pair.indexOf('=');
            values.put(pair.substring(0, equals), Long.parseLong(pair.substring(equals + 1)));
        }
        return values;
    }
}
