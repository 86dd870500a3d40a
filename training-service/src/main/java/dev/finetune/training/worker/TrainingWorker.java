package dev.finetune.training.worker;

import dev.finetune.events.TrainingJobRequested;
import dev.finetune.service.messaging.EventProcessing;
import dev.finetune.service.tracing.WorkContext;
import dev.finetune.training.job.JobRecord;
import dev.finetune.training.job.JobService;
import io.smallrye.reactive.messaging.annotations.Blocking;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.eclipse.microprofile.reactive.messaging.Message;

/**
 * Claims jobs from {@code training.jobs}, one at a time. Workers share one consumer group: add
 * workers to train more jobs at once. The record is acknowledged only when the job has ended, so
 * a worker that dies mid-job leaves it to the partition's next owner, which resumes it from its
 * last checkpoint. In one-job mode ({@link OneJobPod}) the worker runs its first record only, and
 * exits once that record is acknowledged; later ones stay unacknowledged for the next pod. The
 * channel is on in roles all and worker only (application.properties, {@code role-channels}).
 */
@ApplicationScoped
public class TrainingWorker {
    private final JobService jobs;
    private final JobRunner runner;
    private final OneJobPod pod;

    TrainingWorker(JobService jobs, JobRunner runner, OneJobPod pod) {
        this.jobs = jobs;
        this.runner = runner;
        this.pod = pod;
    }

    @Incoming("training-jobs")
    @Blocking("training")
    public CompletionStage<Void> onJob(Message<TrainingJobRequested> message) {
        if (!pod.take()) {
            return CompletableFuture.completedFuture(null); // not this pod's: uncommitted, redelivered after it leaves
        }
        return EventProcessing.process(message, (request, eventId) -> {
                    JobRecord job = jobs.accept(request);
                    try (WorkContext ignored = JobWork.open(job)) {
                        runner.run(job.id());
                    }
                })
                .whenComplete((ignored, failure) -> pod.done(
                        message.getPayload() == null
                                ? "(none)"
                                : message.getPayload().jobId()));
    }
}
