package dev.finetune.llm.bench;

import ai.djl.engine.Engine;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;

/** What a benchmark ran on, in one line of Markdown: CPU, cores, JVM, OS, engine and its threads. */
public final class Machine {
    private Machine() {}

    public static String describe() {
        Engine engine = Engine.getInstance();
        return String.format(
                Locale.ROOT,
                "%s, %d cores available to the JVM; %s %s; %s %s; %s %s (DJL %s); threads: num_threads=%s,"
                        + " num_interop_threads=%s",
                cpuModel().orElse("unknown CPU"),
                Runtime.getRuntime().availableProcessors(),
                System.getProperty("java.vm.name"),
                System.getProperty("java.runtime.version"),
                System.getProperty("os.name"),
                System.getProperty("os.arch"),
                engine.getEngineName(),
                engine.getVersion(),
                Engine.getDjlVersion(),
                System.getProperty("ai.djl.pytorch.num_threads", "engine default"),
                System.getProperty("ai.djl.pytorch.num_interop_threads", "engine default"));
    }

    /** The CPU's model name on Linux; other systems do not say. */
    private static Optional<String> cpuModel() {
        Path cpuinfo = Path.of("/proc/cpuinfo");
        if (!Files.isReadable(cpuinfo)) {
            return Optional.empty();
        }
        try {
            return Files.readAllLines(cpuinfo).stream()
                    .filter(line -> line.startsWith("model name"))
                    .map(line -> line.substring(line.indexOf(':') + 1).strip())
                    .findFirst();
        } catch (IOException e) {
            return Optional.empty(); // only decoration for the report
        }
    }
}
