package dev.finetune.training.metrics;

import dev.finetune.llm.train.StepMetrics;
import dev.finetune.service.metrics.DurationHistograms;
import dev.finetune.service.metrics.Recording;
import dev.finetune.training.job.JobRecord;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;

/**
 * What a worker's training looks like from outside:
 *
 * <ul>
 *   <li>{@code finetune_training_step_duration_seconds{method,objective}}: a histogram of optimizer
 *       step times (forward, backward and update of every micro-batch; checkpoints not included);
 *   <li>per job training on this worker, labelled {@code job_id}: {@code
 *       finetune_training_tokens_per_second}, {@code _loss}, {@code _learning_rate}, {@code
 *       _grad_norm}, {@code _step}, {@code _total_steps}. They exist from the job's first step on
 *       this worker until it stops here (however it ends), then they are removed, so the {@code
 *       job_id} label only ever holds the few jobs running now;
 *   <li>{@code finetune_checkpoint_upload_duration_seconds} and {@code
 *       finetune_checkpoint_upload_bytes_total}: checkpoints and final results copied to the store.
 * </ul>
 */
@ApplicationScoped
public class TrainingRunMetrics {
    private final MeterRegistry registry;
    private final Map<String, RunningJob> running = new ConcurrentHashMap<>();

    public TrainingRunMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    /** The job starts (or resumes) training on this worker at {@code startStep} of {@code totalSteps}. */
    public void started(JobRecord job, int startStep, int totalSteps) {
        Recording.safely("job started", () -> {
            RunningJob previous = running.remove(job.id());
            if (previous != null) {
                previous.remove(registry);
            }
            RunningJob gauges = new RunningJob(registry, job, startStep, totalSteps);
            running.put(job.id(), gauges);
        });
    }

    /** The job did one optimizer step. */
    public void step(String jobId, StepMetrics m) {
        Recording.safely("training step", () -> {
            RunningJob job = running.get(jobId);
            if (job != null) {
                job.update(m);
            }
        });
    }

    /** The job evaluated its validation split ({@code eval_loss} becomes the gauge's value). */
    public void evaluation(String jobId, Map<String, Double> evaluation) {
        Recording.safely("evaluation", () -> {
            RunningJob job = running.get(jobId);
            Double loss = evaluation.get("eval_loss");
            if (job != null && loss != null) {
                job.evalLoss = loss;
            }
        });
    }

    /** The job stopped training on this worker (finished, failed, cancelled, or lost its lease). */
    public void ended(String jobId) {
        Recording.safely("job ended", () -> {
            RunningJob job = running.remove(jobId);
            if (job != null) {
                job.remove(registry);
            }
        });
    }

    /** A checkpoint (or the final result) of {@code bytes} was uploaded in {@code nanos}. */
    public void checkpointUploaded(long nanos, long bytes) {
        Recording.safely("checkpoint upload", () -> {
            DurationHistograms.timer(
                            "finetune.checkpoint.upload.duration",
                            "Uploads of a checkpoint or final result to the object store",
                            Duration.ofMillis(10),
                            Duration.ofHours(1))
                    .register(registry)
                    .record(nanos, TimeUnit.NANOSECONDS);
            Counter.builder("finetune.checkpoint.upload")
                    .description("Bytes of checkpoints and final results uploaded to the object store")
                    .baseUnit("bytes")
                    .register(registry)
                    .increment(bytes);
        });
    }

    /** The gauges of one job training here, and the step timer of its method and objective. */
    private static final class RunningJob {
        private final Timer steps;
        private final List<Meter> gauges = new ArrayList<>();
        private volatile double tokensPerSecond = Double.NaN;
        private volatile double loss = Double.NaN;
        private volatile double learningRate = Double.NaN;
        private volatile double gradNorm = Double.NaN;
        private volatile double evalLoss = Double.NaN;
        private volatile double step;
        private final double totalSteps;

        RunningJob(MeterRegistry registry, JobRecord job, int startStep, int totalSteps) {
            this.step = startStep;
            this.totalSteps = totalSteps;
            this.steps = DurationHistograms.timer(
                            "finetune.training.step.duration",
                            "Optimizer steps: forward, backward and update of every micro-batch",
                            Duration.ofMillis(10),
                            Duration.ofMinutes(30))
                    .tags(
                            "method",
                            job.method().code(),
                            "objective",
                            job.objective().code())
                    .register(registry);
            gauge(
                    registry,
                    job,
                    "finetune.training.tokens.per.second",
                    "Input tokens per second of the last step",
                    j -> j.tokensPerSecond);
            gauge(registry, job, "finetune.training.loss", "Loss of the last step", j -> j.loss);
            gauge(
                    registry,
                    job,
                    "finetune.training.learning.rate",
                    "Learning rate of the last step",
                    j -> j.learningRate);
            gauge(
                    registry,
                    job,
                    "finetune.training.grad.norm",
                    "Gradient norm of the last step before clipping",
                    j -> j.gradNorm);
            gauge(
                    registry,
                    job,
                    "finetune.training.eval.loss",
                    "Validation loss of the last evaluation (eval_strategy), NaN before one",
                    j -> j.evalLoss);
            gauge(registry, job, "finetune.training.step", "Optimizer steps done", j -> j.step);
            gauge(
                    registry,
                    job,
                    "finetune.training.total.steps",
                    "Optimizer steps of the whole run",
                    j -> j.totalSteps);
        }

        private void gauge(
                MeterRegistry registry,
                JobRecord job,
                String name,
                String description,
                ToDoubleFunction<RunningJob> value) {
            gauges.add(Gauge.builder(name, this, value)
                    .description(description + ", per job while it trains on this worker")
                    .tag("job_id", job.id())
                    .strongReference(true)
                    .register(registry));
        }

        void update(StepMetrics m) {
            tokensPerSecond = m.tokensPerSecond();
            loss = m.loss();
            learningRate = m.learningRate();
            gradNorm = m.gradNorm();
            step = m.step();
            steps.record(m.stepTime());
        }

        void remove(MeterRegistry registry) {
            gauges.forEach(registry::remove);
        }
    }
}
