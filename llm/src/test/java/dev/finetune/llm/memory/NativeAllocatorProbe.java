package dev.finetune.llm.memory;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.finetune.llm.model.Engines;

/**
 * Child-JVM side of {@link NativeAllocatorTest}: makes and frees engine arrays of the sizes a step
 * makes (64 MiB down to a few bytes), checks their values, reports whether it ran on jemalloc, and
 * logs it as a service does.
 */
public final class NativeAllocatorProbe {
    private NativeAllocatorProbe() {}

    public static void main(String[] args) {
        double sum = 0;
        try (NDManager manager = NDManager.newBaseManager(Engines.inferenceThread())) {
            for (long elements = 16L << 20; elements >= 4; elements /= 16) {
                try (NDArray ones = manager.ones(new Shape(elements));
                        NDArray doubled = ones.add(ones)) {
                    sum += doubled.sum().getFloat() / elements;
                }
            }
        }
        NativeAllocator.report(
                message -> System.out.println("info: " + message),
                message -> System.out.println("warning: " + message));
        System.out.println("active=" + (NativeAllocator.active() ? 1 : 0) + " checksum=" + Math.round(sum));
    }
}
