package dev.finetune.training;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.context.Context;
import io.opentelemetry.sdk.trace.ReadWriteSpan;
import io.opentelemetry.sdk.trace.ReadableSpan;
import io.opentelemetry.sdk.trace.SpanProcessor;
import jakarta.inject.Singleton;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Test-only: runs an action where a phase of a job ends ({@link dev.finetune.training.worker.JobPhases}
 * spans), on the thread that ran the phase, before that thread goes on. A fault test injects its
 * outage at a known point of a run (training done, result not yet written) instead of after a
 * guessed delay that a fast or slow machine turns into another test. Quarkus registers every
 * {@link SpanProcessor} bean with its tracer provider, and {@link #onEnd} runs inside the phase's
 * {@code span.end()}.
 */
@Singleton
public class PhaseHooks implements SpanProcessor {
    private static final AttributeKey<String> DATASET = AttributeKey.stringKey("dataset.name");

    private record Hook(String span, String dataset, Runnable action) {}

    private final List<Hook> hooks = new CopyOnWriteArrayList<>();

    /**
     * Runs {@code action} once, when span {@code span} (e.g. {@code training.train}) of a job on
     * dataset {@code dataset} ends; the job's thread waits for it. A test gives its job a dataset of
     * its own, so the hook is armed before the job exists and no other job fires it.
     */
    public void onceWhenEnded(String span, String dataset, Runnable action) {
        hooks.add(new Hook(span, dataset, action));
    }

    @Override
    public void onEnd(ReadableSpan span) {
        for (Hook hook : hooks) {
            if (hook.span().equals(span.getName())
                    && hook.dataset().equals(span.getAttribute(DATASET))
                    && hooks.remove(hook)) {
                hook.action().run();
            }
        }
    }

    @Override
    public boolean isEndRequired() {
        return true;
    }

    @Override
    public void onStart(Context parentContext, ReadWriteSpan span) {}

    @Override
    public boolean isStartRequired() {
        return false;
    }
}
