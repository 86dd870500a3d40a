package dev.finetune.training.worker;

import dev.finetune.service.tracing.PhaseSpans;
import io.opentelemetry.api.trace.Tracer;
import jakarta.inject.Singleton;

/**
 * One span per phase of a job ({@code training.load-model}, {@code training.load-data}, {@code
 * training.load-adapter}, {@code
 * training.restore-checkpoint}, {@code training.train}, {@code training.upload-checkpoint}, {@code
 * training.upload-result}), tagged {@code job.id}, children of the span that consumed the job
 * request, which continues the trace that started when the dataset was ingested. An operator sees
 * in one trace where a job's time went.
 */
@Singleton
public class JobPhases extends PhaseSpans {
    /** The attribute that carries the job's id. */
    public static final String JOB_ID = "job.id";

    JobPhases(Tracer tracer) {
        super(tracer, "training", JOB_ID);
    }
}
