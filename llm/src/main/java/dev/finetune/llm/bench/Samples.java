package dev.finetune.llm.bench;

import java.util.Arrays;

/**
 * Wall-clock durations of repeated runs of one workload, in seconds, sorted. The median is the
 * figure reported: on a shared two-core machine single runs vary by tens of percent.
 */
record Samples(double[] seconds) {
    Samples {
        seconds = seconds.clone();
        Arrays.sort(seconds);
    }

    /**
     * Runs {@code work} {@code warmup} times unmeasured (JIT, allocator, engine caches), then
     * {@code repeats} times measured.
     */
    static Samples measure(int warmup, int repeats, Runnable work) {
        for (int i = 0; i < warmup; i++) {
            work.run();
        }
        double[] seconds = new double[repeats];
        for (int i = 0; i < repeats; i++) {
            long start = System.nanoTime();
            work.run();
            seconds[i] = (System.nanoTime() - start) / 1e9;
        }
        return new Samples(seconds);
    }

    double median() {
        int n = seconds.length;
        return n % 2 == 1 ? seconds[n / 2] : (seconds[n / 2 - 1] + seconds[n / 2]) / 2;
    }

    double fastest() {
        return seconds[0];
    }

    double slowest() {
        return seconds[seconds.length - 1];
    }
}
