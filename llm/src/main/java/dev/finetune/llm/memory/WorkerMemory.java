package dev.finetune.llm.memory;

import java.lang.management.ManagementFactory;
import java.util.Locale;

/**
 * The memory this process may use: the JVM's view of the machine, which is the container's limit
 * when there is one (the JVM reads the cgroup; on Kubernetes that is the pod's memory limit, what the
 * out-of-memory killer enforces), else the physical memory.
 */
public final class WorkerMemory {
    private WorkerMemory() {}

    public static long available() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getTotalMemorySize();
        }
        return Runtime.getRuntime().maxMemory();
    }

    /** Bytes in binary units with one decimal: "1.6 GiB", "512.0 MiB". */
    public static String format(long bytes) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
        double value = bytes;
        int unit = 0;
        while (Math.abs(value) >= 1024 && unit < units.length - 1) {
            value /= 1024;
            unit++;
        }
        return unit == 0 ? bytes + " B" : String.format(Locale.ROOT, "%.1f %s", value, units[unit]);
    }
}
